/**
 * A small "semantic" model the tests build with the project's own ONNX writer and drop into a
 * models folder with a manifest alone, the way a user adds a CLIP or DINOv2 export: resized
 * input (shortest edge, centre crop), CLIP mean/std, a 3x3 convolution bank, ReLU, global mean.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createGraphBuilder, encodeModel, OPSET } from '../../src/model-build/onnx-writer/index.js';
import { rng } from './gallery.js';

export const TINY_DIM = 8;
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];

/** The ONNX bytes: input `pixel_values` [N, 3, 32, 32], output `image_embeds` [N, 8]. */
export function tinyOnnx(seed = 1): Uint8Array {
  const rand = rng(seed);
  const g = createGraphBuilder('tiny-clip');
  const x = g.input('pixel_values', ['N', 3, 32, 32]);
  const w = g.constant('w', Array.from({ length: TINY_DIM * 3 * 3 * 3 }, () => rand() - 0.5), [TINY_DIM, 3, 3, 3]);
  const [relu] = g.op('Relu', [g.conv(x, w)]);
  g.output(g.reduceMean(relu!, [2, 3], false), 'image_embeds', ['N', TINY_DIM]);
  return encodeModel({ graph: g.build('tiny test encoder'), opset: OPSET, producerName: 'dfg-test', producerVersion: '0' });
}

/** The manifest of a resized-input model, as README "Adding your own model" describes it. */
export function tinyManifest(id: string) {
  return {
    id,
    version: '0.1.0',
    description: 'Tiny test encoder with CLIP-style preprocessing',
    provenance: { builder: 'test/helpers/tiny-model.ts' },
    input: { name: 'pixel_values', layout: 'NCHW', channels: 3, scale: 1 / 255, mean: CLIP_MEAN, std: CLIP_STD },
    output: { name: 'image_embeds', dim: TINY_DIM, normalise: 'l2' },
    resize: { shortestEdge: 32, filter: 'bicubic' },
    crop: { size: 32, plan: 'center', count: 1, minSize: 8, multiple: 1, dynamic: false },
  };
}

/** Writes `<modelsDir>/<id>/model.{onnx,json}`; `manifest` overrides fields of the default one. */
export function writeTinyModel(modelsDir: string, id: string, manifest: Record<string, unknown> = {}, onnx: Uint8Array | null = tinyOnnx()): string {
  const dir = path.join(modelsDir, id);
  fs.mkdirSync(dir, { recursive: true });
  if (onnx) fs.writeFileSync(path.join(dir, 'model.onnx'), onnx);
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ ...tinyManifest(id), ...manifest }, null, 2));
  return dir;
}
