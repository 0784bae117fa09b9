/**
 * Sharing galleries between organisations: signed, versioned bundles (README, "Sharing galleries:
 * signed bundles"). Export and import are use cases shared by the CLI (and the HTTP routes).
 */
export * from './format.js';
export { createSigningKey, keyFingerprint, readSigningKey, readTrustList, signEntries, verifyEntries } from './signing.js';
export { packBundle, type BundleParts, type Signer } from './pack.js';
export { verifyBundle, readBounded, DEFAULT_BUNDLE_LIMITS, type BundleLimits, type BundleSource, type VerifiedBundle } from './read.js';
export { exportBundle, type ExportOptions, type ExportSummary } from './export.js';
export { importBundle, importVerifiedBundle, CONFLICT_MODES, type ConflictMode, type ImportOptions, type ImportProgress, type ImportSummary, type ImportedAlgorithm } from './import.js';
