import type { SupplyNotification } from './ports.js';

export type NotificationListener = (notification: SupplyNotification) => void;

/** Hands every notification, as it is stored, to the current listeners (the gateway's event streams). */
export class NotificationHub {
  private readonly listeners = new Set<NotificationListener>();

  /** Adds a listener; returns what removes it. */
  subscribe(listener: NotificationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(notification: SupplyNotification): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(notification);
      } catch {
        // a failing listener (a stream gone) must not stop the others
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}
