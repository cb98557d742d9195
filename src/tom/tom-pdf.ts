// Prints the annex's HTML to PDF with headless Chromium (Debian `chromium`,
// driven by playwright-core): the print stylesheet lays it out on A4. No
// network: the page is set from memory and every request it makes is refused.
export interface PdfOptions { executablePath: string; timeoutMs: number }

export async function htmlToPdf(html: string, { executablePath, timeoutMs }: PdfOptions): Promise<Buffer> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-background-networking'], timeout: timeoutMs });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(timeoutMs);
    await page.route('**/*', (route) => route.abort());
    await page.setContent(html, { waitUntil: 'load', timeout: timeoutMs });
    return Buffer.from(await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true }));
  } finally {
    await browser.close();
  }
}
