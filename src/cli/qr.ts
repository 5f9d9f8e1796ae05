/** Terminal QR codes through the optional `uqr` package (zero dependencies); text fallback without it. */
export async function renderQr(text: string): Promise<string | undefined> {
  const name = 'uqr';
  try {
    const mod = (await import(name)) as { renderUnicodeCompact?: (t: string, o?: object) => string };
    return mod.renderUnicodeCompact?.(text, { border: 1 });
  } catch {
    return undefined;
  }
}
