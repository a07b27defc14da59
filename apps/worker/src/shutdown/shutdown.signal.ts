import { Injectable } from '@nestjs/common';

/** Aborted when the shutdown grace period runs out: in-flight waits and requests stop. */
@Injectable()
export class ShutdownSignal {
  private readonly controller = new AbortController();

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  abort(): void {
    this.controller.abort();
  }
}
