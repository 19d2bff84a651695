import {
  ViemSupplyChainRegistry,
  type SupplyChainReceipt,
  type SupplyChainWriteName,
} from './viemSupplyChainRegistry.js';

type Registry = ViemSupplyChainRegistry;

/** Every write of the registry is overridden below: adding a write to `SupplyChainWriteName` fails to compile here. */
const OVERRIDDEN = {
  registerProduct: true,
  commissionLot: true,
  transferPacks: true,
  dispense: true,
  decommission: true,
  destroy: true,
  markSuspect: true,
  recordInvestigation: true,
  markLotSuspect: true,
  recordLotInvestigation: true,
  recallLot: true,
} as const satisfies Record<SupplyChainWriteName, true>;
void OVERRIDDEN;

/**
 * The node's SupplyChainRegistry adapter, whose every write, once mined, waits for `afterMined(block)` before it
 * resolves: the supply-chain mirror applies that block first, so this gateway's answer to its own write (and any
 * verification after it) already reflects it. Writes are those of {@link ViemSupplyChainRegistry}, unchanged.
 */
export class MirroredSupplyChainRegistry extends ViemSupplyChainRegistry {
  private afterMined: ((block: number) => Promise<void>) | null = null;

  /** Sets what a mined write waits for (the mirror's catch-up; it never throws). */
  onMined(afterMined: (block: number) => Promise<void>): void {
    this.afterMined = afterMined;
  }

  override async registerProduct(...args: Parameters<Registry['registerProduct']>) {
    return this.mined(await super.registerProduct(...args));
  }
  override async commissionLot(...args: Parameters<Registry['commissionLot']>) {
    return this.mined(await super.commissionLot(...args));
  }
  override async transferPacks(...args: Parameters<Registry['transferPacks']>) {
    return this.mined(await super.transferPacks(...args));
  }
  override async dispense(...args: Parameters<Registry['dispense']>) {
    return this.mined(await super.dispense(...args));
  }
  override async decommission(...args: Parameters<Registry['decommission']>) {
    return this.mined(await super.decommission(...args));
  }
  override async destroy(...args: Parameters<Registry['destroy']>) {
    return this.mined(await super.destroy(...args));
  }
  override async markSuspect(...args: Parameters<Registry['markSuspect']>) {
    return this.mined(await super.markSuspect(...args));
  }
  override async recordInvestigation(...args: Parameters<Registry['recordInvestigation']>) {
    return this.mined(await super.recordInvestigation(...args));
  }
  override async markLotSuspect(...args: Parameters<Registry['markLotSuspect']>) {
    return this.mined(await super.markLotSuspect(...args));
  }
  override async recordLotInvestigation(...args: Parameters<Registry['recordLotInvestigation']>) {
    return this.mined(await super.recordLotInvestigation(...args));
  }
  override async recallLot(...args: Parameters<Registry['recallLot']>) {
    return this.mined(await super.recallLot(...args));
  }

  private async mined<R extends SupplyChainReceipt>(receipt: R): Promise<R> {
    await this.afterMined?.(receipt.blockNumber);
    return receipt;
  }
}
