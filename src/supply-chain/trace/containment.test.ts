import { describe, expect, it } from 'vitest';
import { containerWindows, containmentIntervals, type AggregationFact } from './containment.js';

let record = 0;
const fact = (
  eventTime: number,
  action: string,
  parent: string,
  children: string[],
  eventId = `e${++record}`,
): AggregationFact => ({
  recordId: ++record,
  eventId,
  eventTime,
  action,
  parent,
  parentEpc: `urn:${parent}`,
  children,
});

describe('containmentIntervals', () => {
  it('ADD then DELETE: one closed interval, both ends the events’ times', () => {
    const facts = [fact(10, 'ADD', 'case', ['p1', 'p2']), fact(50, 'DELETE', 'case', ['p1'])];
    expect(containmentIntervals('p1', facts)).toEqual([
      {
        container: 'case',
        containerEpc: 'urn:case',
        from: 10,
        until: 50,
        addedBy: facts[0]?.eventId,
        removedBy: facts[1]?.eventId,
      },
    ]);
    // p2 was not taken out.
    expect(containmentIntervals('p2', facts)).toMatchObject([{ container: 'case', from: 10, until: null }]);
  });

  it('a DELETE without children empties the container', () => {
    const facts = [fact(10, 'ADD', 'case', ['p1']), fact(20, 'DELETE', 'case', [])];
    expect(containmentIntervals('p1', facts)).toMatchObject([{ from: 10, until: 20 }]);
  });

  it('a DELETE of other children, or of another container, leaves it inside', () => {
    const facts = [
      fact(10, 'ADD', 'case', ['p1', 'p2']),
      fact(20, 'DELETE', 'case', ['p2']),
      fact(30, 'DELETE', 'other', ['p1']),
    ];
    expect(containmentIntervals('p1', facts)).toMatchObject([{ container: 'case', until: null }]);
  });

  it('follows event time, not capture order (documents arrive late)', () => {
    const remove = fact(50, 'DELETE', 'case', ['p1']);
    const add = fact(10, 'ADD', 'case', ['p1']);
    expect(containmentIntervals('p1', [remove, add])).toMatchObject([{ from: 10, until: 50 }]);
  });

  it('re-packing: out of one case, into another, and back', () => {
    const facts = [
      fact(10, 'ADD', 'caseA', ['p1']),
      fact(20, 'DELETE', 'caseA', ['p1']),
      fact(30, 'ADD', 'caseB', ['p1']),
      fact(40, 'DELETE', 'caseB', []),
      fact(50, 'ADD', 'caseA', ['p1']),
    ];
    expect(containmentIntervals('p1', facts)).toMatchObject([
      { container: 'caseA', from: 10, until: 20 },
      { container: 'caseB', from: 30, until: 40 },
      { container: 'caseA', from: 50, until: null },
    ]);
  });

  it('re-packing without a DELETE: an ADD into another container takes it out of the first', () => {
    const facts = [fact(10, 'ADD', 'caseA', ['p1']), fact(30, 'ADD', 'caseB', ['p1'])];
    expect(containmentIntervals('p1', facts)).toMatchObject([
      { container: 'caseA', from: 10, until: 30, removedBy: facts[1]?.eventId },
      { container: 'caseB', from: 30, until: null },
    ]);
  });

  it('an OBSERVE or a repeated ADD confirms, and the same event twice counts once', () => {
    const add = fact(10, 'ADD', 'case', ['p1']);
    const facts = [add, add, fact(20, 'OBSERVE', 'case', ['p1']), fact(25, 'ADD', 'case', ['p1'])];
    expect(containmentIntervals('p1', facts)).toMatchObject([
      { from: 10, until: null, addedBy: add.eventId },
    ]);
  });

  it('ignores the subject’s own children and a DELETE before any ADD', () => {
    const facts = [fact(5, 'DELETE', 'case', ['p1']), fact(10, 'ADD', 'p1', ['x'])];
    expect(containmentIntervals('p1', facts)).toEqual([]);
  });
});

describe('containerWindows: nested containers', () => {
  // A pack in a case from 10 to 60; the case on a pallet from 20 to 40, then on another pallet from 50 on; the first
  // pallet itself in a container from 0 on.
  const facts: Record<string, AggregationFact[]> = {
    pack: [fact(10, 'ADD', 'case', ['pack']), fact(60, 'DELETE', 'case', ['pack'])],
    case: [
      fact(20, 'ADD', 'pallet1', ['case']),
      fact(40, 'DELETE', 'pallet1', []),
      fact(50, 'ADD', 'pallet2', ['case']),
    ],
    pallet1: [fact(0, 'ADD', 'container', ['pallet1'])],
    pallet2: [],
    container: [],
  };
  const factsOf = (key: string) => facts[key] ?? [];

  it('gives each container the time the pack was inside it, through every level', () => {
    expect(
      containerWindows('pack', factsOf).map(({ container, depth, from, until, path }) => ({
        container,
        depth,
        from,
        until,
        path,
      })),
    ).toEqual([
      { container: 'case', depth: 1, from: 10, until: 60, path: ['case'] },
      { container: 'pallet1', depth: 2, from: 20, until: 40, path: ['case', 'pallet1'] },
      { container: 'container', depth: 3, from: 20, until: 40, path: ['case', 'pallet1', 'container'] },
      // On pallet2 from 50 on, but the pack left the case at 60.
      { container: 'pallet2', depth: 2, from: 50, until: 60, path: ['case', 'pallet2'] },
    ]);
  });

  it('leaves out a container the case was in only before or after the pack was', () => {
    const before: Record<string, AggregationFact[]> = {
      pack: [fact(100, 'ADD', 'case', ['pack'])],
      case: [fact(10, 'ADD', 'pallet', ['case']), fact(50, 'DELETE', 'pallet', ['case'])],
    };
    expect(containerWindows('pack', (k) => before[k] ?? []).map((w) => w.container)).toEqual(['case']);
  });

  it('stops at the depth limit and at cycles', () => {
    const cyclic: Record<string, AggregationFact[]> = {
      a: [fact(1, 'ADD', 'b', ['a'])],
      b: [fact(1, 'ADD', 'a', ['b'])],
    };
    expect(containerWindows('a', (k) => cyclic[k] ?? []).map((w) => w.container)).toEqual(['b']);
    const chain: Record<string, AggregationFact[]> = Object.fromEntries(
      ['l0', 'l1', 'l2', 'l3', 'l4', 'l5'].map((k, i) => [k, [fact(1, 'ADD', `l${i + 1}`, [k])]]),
    );
    expect(containerWindows('l0', (k) => chain[k] ?? [], 3).map((w) => w.container)).toEqual([
      'l1',
      'l2',
      'l3',
    ]);
  });
});
