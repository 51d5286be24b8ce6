// How a person's reference to a flow or a step is matched, wherever the list comes from (the
// store, or a server's listing): the exact id, else the name (case-insensitive), else an id prefix
// of at least 6 characters that only one item has. Pure, so the local and the remote backend match
// alike.

export interface Named {
  id: string;
  name: string;
}

export function matchRef<T>(items: readonly T[], ref: string, named: (item: T) => Named): T | undefined {
  const lower = ref.toLowerCase();
  const byId = items.find((item) => named(item).id.toLowerCase() === lower);
  if (byId !== undefined) return byId;
  const byName = items.find((item) => named(item).name.toLowerCase() === lower);
  if (byName !== undefined) return byName;
  if (lower.length < 6) return undefined;
  const prefixed = items.filter((item) => named(item).id.toLowerCase().startsWith(lower));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** The names a mistyped reference could have meant, quoted, for a not-found message. */
export function namesHint(names: readonly string[]): string {
  if (names.length === 0) return 'none';
  const shown = names.slice(0, 8).map((n) => `"${n}"`).join(', ');
  return names.length > 8 ? `${shown}, …` : shown;
}
