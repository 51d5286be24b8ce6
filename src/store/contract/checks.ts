// What `flowdeck doctor` says of a store: a check per fact, with what to do about a problem.

export interface StoreCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do, when not ok. */
  fix?: string;
}
