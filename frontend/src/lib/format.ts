/** A date and time in the reader's locale. */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** A loss or score with enough digits to compare, or a dash when it is not disclosed. */
/**
 * A number to ``digits`` decimals; with ``"rounded"``, a number the server rounded for
 * disclosure, shown as sent with "≈" (padding it to fixed decimals would claim precision it
 * does not have).
 */
export function formatNumber(value: number | null | undefined, digits: number | "rounded" = 4): string {
  if (value === null || value === undefined) return "—";
  return digits === "rounded" ? `≈ ${value.toLocaleString("en", { maximumFractionDigits: 12 })}` : value.toFixed(digits);
}

/** A rate as a percentage; rounded ones (the server rounded them for disclosure) marked "≈". */
export function formatRate(value: number | null | undefined, digits: number | "rounded"): string {
  if (value === null || value === undefined) return "—";
  const percent = value * 100;
  return digits === "rounded"
    ? `≈ ${percent.toLocaleString("en", { maximumFractionDigits: 8 })}%`
    : `${percent.toFixed(digits)}%`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
}
