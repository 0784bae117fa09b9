/**
 * SVG to PNG for report plots. The one sharp import besides decode.ts: it rasterises SVG that
 * the evaluation writes itself, never client bytes (decode.ts refuses SVG input outright).
 */
import sharp from 'sharp';

/** Rasterises an SVG document to PNG at twice its nominal size (crisp in reports). */
export async function svgToPng(svg: string): Promise<Buffer> {
  return sharp(Buffer.from(svg, 'utf8'), { density: 144 }).png().toBuffer();
}
