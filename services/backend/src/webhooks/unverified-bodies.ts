// Bounds what unauthenticated requests can make the backend hold: a webhook body is only known to
// be GitHub's once all of it has arrived and its signature checks, so until then every body
// counts against one budget of bytes and one of bodies, shared by all connections.
import type { BodyTicket } from '@kritik/server';

export interface UnverifiedLimits {
  /** Bytes of not-yet-verified bodies held at once, across all requests. */
  readonly maxBytes: number;
  /** Not-yet-verified bodies being read at once. */
  readonly maxBodies: number;
}

export class UnverifiedBodies {
  private bytes = 0;
  private bodies = 0;

  constructor(readonly limits: UnverifiedLimits) {}

  /** A ticket for a new body, or null when as many bodies as allowed are being read already. */
  admit(): BodyTicket | null {
    if (this.bodies >= this.limits.maxBodies) return null;
    this.bodies++;
    let held = 0;
    let released = false;
    return {
      take: (bytes) => {
        if (released || this.bytes + bytes > this.limits.maxBytes) return false;
        this.bytes += bytes;
        held += bytes;
        return true;
      },
      release: () => {
        if (released) return;
        released = true;
        this.bytes -= held;
        this.bodies--;
      },
    };
  }

  get inFlight(): { bytes: number; bodies: number } {
    return { bytes: this.bytes, bodies: this.bodies };
  }
}
