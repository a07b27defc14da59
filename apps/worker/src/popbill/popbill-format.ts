/** "20261110093012" → "2026-11-10 09:30:12 KST"; "20261115" → "2026-11-15"; else unchanged. */
export function formatPopbillDate(value: string): string {
  const long = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(value);
  if (long) return `${long[1]}-${long[2]}-${long[3]} ${long[4]}:${long[5]}:${long[6]} KST`;
  const short = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  return short ? `${short[1]}-${short[2]}-${short[3]}` : value;
}

/** "1012345678" → "101-23-45678". */
export function formatCorpNum(value: string): string {
  const match = /^(\d{3})(\d{2})(\d{5})$/.exec(value);
  return match ? `${match[1]}-${match[2]}-${match[3]}` : value;
}

/** 1234567 → "1,234,567원". */
export function formatAmount(value: string): string {
  const match = /^(-?)(\d+)(\.\d+)?$/.exec(value.trim());
  if (!match) return value;
  return `${match[1]}${match[2].replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${match[3] ?? ''}원`;
}
