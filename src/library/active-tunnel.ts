/**
 * The endpoint of the tunnel SSHTunnel has open right now, if any. A tiny module with no
 * imports, so the pool (setupDatabase) can route through the spec's singleton tunnel without
 * loading ssh2: `activeTunnel()?.port`.
 */
export interface ActiveTunnel {
  host: '127.0.0.1';
  port: number;
  /** The database host:port as seen from the bastion. */
  remote: { host: string; port: number };
}

let active: ActiveTunnel | null = null;

export function setActiveTunnel(t: ActiveTunnel | null): void {
  active = t;
}

export function activeTunnel(): ActiveTunnel | null {
  return active;
}
