// Generated from openapi.yaml by openapi-typescript (`npm run openapi`); do not edit.

export interface paths {
    "/livez": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The process is up */
        get: operations["livez"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Ready once the model and the gallery index are loaded */
        get: operations["readyz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Prometheus metrics */
        get: operations["metrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/algorithms": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List registered algorithms with sample counts */
        get: operations["listAlgorithms"];
        put?: never;
        /** Register a forgery algorithm (or an authentic reference class) */
        post: operations["createAlgorithm"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/algorithms/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get one algorithm */
        get: operations["getAlgorithm"];
        put?: never;
        post?: never;
        /** Delete an algorithm and all its samples */
        delete: operations["deleteAlgorithm"];
        options?: never;
        head?: never;
        /** Rename, describe, enable/disable or set a threshold override */
        patch: operations["updateAlgorithm"];
        trace?: never;
    };
    "/v1/algorithms/{id}/samples": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List an algorithm's samples for the serving model */
        get: operations["listSamples"];
        put?: never;
        /**
         * Enrol sample images (multipart, one or many files); answered per file
         * @description Each file is decoded at native resolution, embedded and committed to the store before the answer. The same bytes enrolled twice for one algorithm are recognised by sha256. At most 32 files per request. When every file fails, the answer is the first file's error.
         */
        post: operations["enrolSamples"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/algorithms/{id}/samples/{sampleId}/thumbnail": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A WebP thumbnail (at most 256 px a side) of a sample's kept image
         * @description Made from the image bytes kept under the gallery (DFG_KEEP_IMAGES); 404 DFG_ERR_SAMPLE_IMAGE_NOT_KEPT when they were not kept. Needs the register scope: enrolled images are the registry's material, not every attribute caller's. Cached privately by the browser, per key (the bytes of a sample never change).
         */
        get: operations["getSampleThumbnail"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/algorithms/{id}/samples/{sampleId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Delete one sample */
        delete: operations["deleteSample"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/attribute": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Attribute one image to the nearest registered algorithm, or unknown
         * @description Multipart with exactly one image file. For several files use /v1/attribute/batch.
         */
        post: operations["attribute"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/attribute/batch": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Attribute several images in one request; answered per file
         * @description At most 32 files. A bad file gets a per-file error; the others are still answered.
         */
        post: operations["attributeBatch"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/attributions/{id}/feedback": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * An analyst's verdict on an answer: confirm, reject or relabel, optionally enrolling the upload
         * @description The answer is found by the `attributionId` /v1/attribute gave (kept DFG_ATTRIBUTION_RETENTION_DAYS days). Confirmed and relabelled answers become genuine scores of their algorithm, rejected ones impostor scores of the attributed algorithm, in the next calibration (POST /v1/calibration, and the automatic one); GET /v1/calibration reports the precision they show. One verdict per answer; each is in the audit trail. Needs the register scope: a verdict can enrol samples.
         */
        post: operations["giveFeedback"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/gallery": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Models and fusion weights, dimension, counts (samples needing re-embedding included), version, index state and decision settings */
        get: operations["getGallery"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/calibration": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The current calibration of the served model: thresholds and what they were computed from, per algorithm
         * @description What POST /v1/calibration answered when it made the current calibration, or what the server computed on its own (automatic calibrations answer nobody): per-algorithm thresholds, genuine and impostor acceptance, and the leave-one-out identification that shows which registered algorithms the model mixes up. 404 DFG_ERR_CALIBRATION_NOT_FOUND before any calibration of the served model.
         */
        get: operations["getCalibration"];
        put?: never;
        /**
         * Calibrate per-algorithm thresholds from the gallery for a target FPIR and make them current
         * @description Leave-one-out genuine scores of each enabled algorithm against impostor scores of every other one (and of disabled algorithms). The stored result is versioned, shown in GET /v1/gallery and used by /v1/attribute; explicit per-algorithm thresholds still win. The server also calibrates on its own (DFG_AUTO_CALIBRATE_MS) once the enabled algorithms or their sample counts change, keeping the target FPIR and sample cap of the last requested calibration: request one to choose another. The computation runs in a worker thread.
         */
        post: operations["calibrate"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/model": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Switch the served models without a restart (hot switch); GET /v1/gallery shows the current ones
         * @description Loads the embedder and the gallery index of the new list beside the serving ones, then new requests use them; requests in flight finish on the old models, which are closed after them. Refused, with the old models still serving, when a model is unknown (404) or unusable (422), when stored samples lack a vector of a listed model (409 DFG_ERR_MODEL_SWITCH_INCOMPLETE: re-embed them first with POST /v1/jobs/reembeddings or `dfg gallery reembed`, or set `force`), and while another switch runs (409). A successful switch is recorded in the gallery store before the answer (also when the list was served already but not recorded): restarts serve it unless DFG_MODEL is set to another list (`gallery.model.configured`; explicit configuration wins) or it can no longer be loaded. Running `dfg worker` processes keep their models until restarted (then they follow the record the same way).
         */
        put: operations["switchModel"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/exports": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Download algorithms with their samples and vectors as a bundle signed with the server's publisher key
         * @description The bundle format is in the README (Sharing galleries: signed bundles). 409 DFG_ERR_BUNDLE_SIGNING_NOT_CONFIGURED without DFG_SIGNING_KEY_FILE.
         */
        get: operations["exportBundle"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/imports": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Verify a signed bundle (the request body) against DFG_TRUSTED_PUBLISHERS and import it, all or nothing
         * @description Send the bundle as application/octet-stream; it is streamed to a temporary file (413 past DFG_MAX_BUNDLE_BYTES) and verified before anything else: every refusal (DFG_ERR_BUNDLE_*) writes nothing. Vectors of a served model (same id and version) are used as they are; otherwise the bundle's image bytes are embedded. A bundle of at most DFG_IMPORT_SYNC_MAX_SAMPLES samples is imported in the request (200 with the result); a larger one (or `async=true`) runs as a job of this server (202; follow GET /v1/jobs/{id}: progress in samples applied, then the counts and the result in `import`). Each imported sample and algorithm records its provenance.
         */
        post: operations["importBundle"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The audit trail: every change of the registry, who made it and what changed, oldest first
         * @description Append-only, kept in the gallery store (it survives restarts and `dfg gallery migrate`). Each change writes its row in the same transaction as the change itself. Actions: algorithm.create, algorithm.update (rename, threshold, enable/disable: the changed fields), algorithm.delete, samples.enrol, sample.delete, vectors.add (re-embedding), bundle.import (with one row per write of the import before it), calibration.save, model.switch, attribution.feedback. Page with `cursor` (the last page answers `nextCursor: null`).
         */
        get: operations["listAudit"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/enrolments": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Enrol a batch of images (archive, import directory or URLs) as a background job
         * @description Multipart with a text field `algorithmId` and a file field `archive` (zip, tar, tar.gz), or JSON with a `directory` or `urls` source. Answers 202 once the images are validated and queued; `dfg worker` processes embed them. Re-running a chunk never enrols an image twice.
         */
        post: operations["createEnrolmentJob"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/audits": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Attribute a batch of images as a background job
         * @description Same sources as enrolment jobs, without an algorithm. Every image is attributed as /v1/attribute would; download the rows from /v1/jobs/{id}/results.
         */
        post: operations["createAuditJob"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/reembeddings": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Re-embed the gallery for a model, from the kept image bytes, as a background job
         * @description Every sample lacking a vector of `modelId` is queued; `dfg worker` processes embed its kept image with that model and add the vector to the same sample. The service keeps serving with its models meanwhile; switch to a list naming the model (PUT /v1/model) to use the vectors. Samples whose bytes are not kept are reported as `not-kept` (DFG_ERR_SAMPLE_NOT_REEMBEDDABLE).
         */
        post: operations["createReembedJob"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Recent jobs, newest first
         * @description Keys with the attribute or register scope: audit jobs are listed for the attribute scope, enrolment and re-embedding jobs for the register scope.
         */
        get: operations["listJobs"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** State, progress, counts, timings and item errors of a job */
        get: operations["getJob"];
        put?: never;
        post?: never;
        /**
         * Cancel a waiting or running job
         * @description Queued chunks are dropped; chunks already running finish and are recorded. A finished job is returned unchanged.
         */
        delete: operations["cancelJob"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/results": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Per-image results as NDJSON (default) or CSV
         * @description One row per image in submission order, for the chunks finished so far (the `x-job-state` header says whether more will come). Audits: name, sha256, decision, algorithm, algorithmId, score, threshold, error, message. Enrolments: name, sha256, outcome, sampleId, error, message.
         */
        get: operations["getJobResults"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** Error */
        Error: {
            statusCode: number;
            /** @description Catalogue code; clients branch on it. */
            code: "DFG_ERR_REQUEST_INVALID" | "DFG_ERR_REQUEST_BAD_JSON" | "DFG_ERR_REQUEST_UNSUPPORTED_MEDIA" | "DFG_ERR_REQUEST_BODY_TOO_LARGE" | "DFG_ERR_ROUTE_NOT_FOUND" | "DFG_ERR_REQUEST_BAD_URL" | "DFG_ERR_REQUEST_BAD_CONTENT_LENGTH" | "DFG_ERR_REQUEST_PRECONDITION_FAILED" | "DFG_ERR_REQUEST_RANGE_NOT_SATISFIABLE" | "DFG_ERR_REQUEST_REFUSED" | "DFG_ERR_UPLOAD_NO_FILE" | "DFG_ERR_UPLOAD_TOO_MANY_FILES" | "DFG_ERR_UPLOAD_TOO_MANY_PARTS" | "DFG_ERR_UPLOAD_FILE_TOO_LARGE" | "DFG_ERR_UPLOAD_TOO_LARGE" | "DFG_ERR_UPLOAD_MALFORMED" | "DFG_ERR_IMAGE_EMPTY" | "DFG_ERR_IMAGE_TOO_LARGE" | "DFG_ERR_IMAGE_UNSUPPORTED_FORMAT" | "DFG_ERR_IMAGE_CORRUPT" | "DFG_ERR_IMAGE_TOO_MANY_PIXELS" | "DFG_ERR_IMAGE_TOO_SMALL" | "DFG_ERR_IMAGE_NO_SIGNAL" | "DFG_ERR_ALGORITHM_NOT_FOUND" | "DFG_ERR_ALGORITHM_NAME_TAKEN" | "DFG_ERR_SAMPLE_NOT_REEMBEDDABLE" | "DFG_ERR_IMAGE_NOT_KEPT" | "DFG_ERR_SAMPLE_NOT_FOUND" | "DFG_ERR_SAMPLE_IMAGE_NOT_KEPT" | "DFG_ERR_AUTH_MISSING_KEY" | "DFG_ERR_AUTH_INVALID_KEY" | "DFG_ERR_AUTH_FORBIDDEN" | "DFG_ERR_SERVER_OVERLOADED" | "DFG_ERR_RATE_LIMITED" | "DFG_ERR_SERVER_NOT_READY" | "DFG_ERR_INTERNAL" | "DFG_ERR_JOBS_UNAVAILABLE" | "DFG_ERR_REEMBED_NOTHING_LEFT" | "DFG_ERR_JOB_NOT_FOUND" | "DFG_ERR_ARCHIVE_INVALID" | "DFG_ERR_IMPORT_PATH_FORBIDDEN" | "DFG_ERR_URL_FORBIDDEN" | "DFG_ERR_CONFIG_INVALID" | "DFG_ERR_CONFIG_UNSAFE_BIND" | "DFG_ERR_MODEL_NOT_FOUND" | "DFG_ERR_MODEL_MANIFEST_INVALID" | "DFG_ERR_MODEL_LIST_INVALID" | "DFG_ERR_MODEL_LOAD_FAILED" | "DFG_ERR_MODEL_UNUSABLE" | "DFG_ERR_MODEL_SWITCH_INCOMPLETE" | "DFG_ERR_MODEL_SWITCHED" | "DFG_ERR_MODEL_SWITCH_BUSY" | "DFG_ERR_GALLERY_DIMENSION_MISMATCH" | "DFG_ERR_ATTRIBUTION_NOT_FOUND" | "DFG_ERR_FEEDBACK_INVALID" | "DFG_ERR_FEEDBACK_EXISTS" | "DFG_ERR_FEEDBACK_NOT_ENROLLABLE" | "DFG_ERR_CALIBRATION_NOT_FOUND" | "DFG_ERR_CALIBRATION_INSUFFICIENT" | "DFG_ERR_EVAL_DATASET_INVALID" | "DFG_ERR_EVAL_PROTOCOL_INVALID" | "DFG_ERR_EVAL_SERVICE_FAILED" | "DFG_ERR_GALLERY_SCHEMA_UNSUPPORTED" | "DFG_ERR_STORE_UNAVAILABLE" | "DFG_ERR_URL_FETCH_FAILED" | "DFG_ERR_IMPORT_INTERRUPTED" | "DFG_ERR_JOB_CHUNK_FAILED" | "DFG_ERR_BUNDLE_MALFORMED" | "DFG_ERR_BUNDLE_TRUNCATED" | "DFG_ERR_BUNDLE_TOO_LARGE" | "DFG_ERR_BUNDLE_VERSION_UNSUPPORTED" | "DFG_ERR_BUNDLE_UNSIGNED" | "DFG_ERR_BUNDLE_UNKNOWN_PUBLISHER" | "DFG_ERR_BUNDLE_BAD_SIGNATURE" | "DFG_ERR_BUNDLE_TAMPERED" | "DFG_ERR_BUNDLE_DIMENSION_MISMATCH" | "DFG_ERR_BUNDLE_NOT_EMBEDDABLE" | "DFG_ERR_BUNDLE_TRUST_NOT_CONFIGURED" | "DFG_ERR_BUNDLE_SIGNING_NOT_CONFIGURED" | "DFG_ERR_BUNDLE_SIGNING_KEY_INVALID" | "DFG_ERR_GENOME_INVALID";
            error: string;
            message: string;
        };
        /** Provenance */
        Provenance: {
            /** @description The gallery's record of the bundle (`bnd_…`); every row imported from one bundle file names the same. */
            bundleId: string;
            /** @description SHA-256 of the bundle file. */
            bundleSha256: string;
            /** @description Publisher (key id) whose signature verified. */
            publisher: string;
            /** @description SHA-256 (hex) of the raw Ed25519 public key the signature verified with. */
            keyFingerprint: string;
            /** @description Exporting software named in the manifest. */
            software: string;
            /** @description When the bundle was exported (manifest createdAt). */
            exportedAt: string;
            /**
             * Format: date-time
             * @description When something was first imported from the bundle.
             */
            importedAt: string;
            /** @description The id it had in the exporting gallery. */
            sourceId: string;
        };
        /** Algorithm */
        Algorithm: {
            id: string;
            name: string;
            /** @description FS face swapping, FR face reenactment, EFS entire face synthesis, FE face editing, authentic reference class, unknown. */
            forgeryType: "FS" | "FR" | "EFS" | "FE" | "authentic" | "unknown";
            architecture: "CNN" | "CG" | "GAN" | "Diffusion" | "VAR" | "closed-source" | "authentic" | "other";
            description: string;
            reference: string;
            enabled: boolean;
            /** @description Per-algorithm threshold override; null = global default or calibration. */
            threshold: number | null;
            /** @description Samples enrolled for the serving model. */
            sampleCount: number;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
            /** @description Set when it was imported from a signed bundle; null when registered or enrolled here. */
            provenance: components["schemas"]["Provenance"] | (never | null);
        };
        /** AlgorithmRef */
        AlgorithmRef: {
            id: string;
            name: string;
            /** @description FS face swapping, FR face reenactment, EFS entire face synthesis, FE face editing, authentic reference class, unknown. */
            forgeryType: "FS" | "FR" | "EFS" | "FE" | "authentic" | "unknown";
            architecture: "CNN" | "CG" | "GAN" | "Diffusion" | "VAR" | "closed-source" | "authentic" | "other";
        };
        /** Sample */
        Sample: {
            id: string;
            algorithmId: string;
            /** @description Model ids the sample has a stored vector for; it is searched once it has one for every served model. */
            models: string[];
            sha256: string;
            width: number;
            height: number;
            filename: string | null;
            /** Format: date-time */
            createdAt: string;
            /** @description Set when it was imported from a signed bundle; null when registered or enrolled here. */
            provenance: components["schemas"]["Provenance"] | (never | null);
        };
        /** ItemError */
        ItemError: {
            statusCode: number;
            code: string;
            message: string;
        };
        /** Attribution */
        Attribution: {
            /** @description Id of this answer, kept DFG_ATTRIBUTION_RETENTION_DAYS days for feedback (POST /v1/attributions/{id}/feedback). null when answers are not kept (retention 0) or the store could not keep this one. */
            attributionId: string | null;
            decision: "attributed" | "unknown" | "authentic";
            algorithm: components["schemas"]["AlgorithmRef"] | (never | null);
            /** @description Best per-algorithm score: the mean of its best M similarities, or, under a calibration with score normalisation (GET /v1/gallery calibration.scoreNorm), that score normalised against the model's cohort, in (-1, 1). */
            score: number;
            /** @description Threshold applied to the best algorithm. */
            threshold: number;
            /** @description Best score minus runner-up score. */
            margin: number;
            candidates: {
                algorithm: components["schemas"]["AlgorithmRef"];
                score: number;
                /** @description Sample ids behind the score. */
                evidence: string[];
                /** @description By sample id, the provenance of those evidence samples that were imported from a signed bundle; absent when none was. */
                provenance?: {
                    [key: string]: components["schemas"]["Provenance"];
                };
            }[];
            model: {
                /** @description The model id, or for a fusion the index id naming models and weights (`a:1+b:0.5`). */
                id: string;
                /** @description The model version (for a fusion, the versions joined by +). */
                version: string;
                /** @description The models whose similarities are fused, with their weights (one entry without fusion). */
                members: {
                    id: string;
                    version: string;
                    weight: number;
                }[];
            };
            galleryVersion: number;
            /**
             * @description Present while the shared store (DFG_STORE) cannot be reached: the answer comes from memory, and the candidates carry no provenance even where their evidence was imported.
             * @enum {boolean}
             */
            provenanceUnavailable?: true;
            timings: {
                decodeMs: number;
                embedMs: number;
                searchMs: number;
                totalMs: number;
            };
            image: {
                width: number;
                height: number;
                sha256: string;
            };
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    livez: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {string} */
                        status: "ok";
                    };
                };
            };
        };
    };
    readyz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        status: string;
                        model: boolean;
                        gallery: boolean;
                        error?: string;
                    };
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        status: string;
                        model: boolean;
                        gallery: boolean;
                        error?: string;
                    };
                };
            };
        };
    };
    metrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Prometheus text exposition format */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
        };
    };
    listAlgorithms: {
        parameters: {
            query: {
                limit: number;
                offset: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["Algorithm"][];
                        total: number;
                        limit: number;
                        offset: number;
                    };
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createAlgorithm: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description Unique (case-insensitive), no leading or trailing spaces. */
                    name: string;
                    /** @description FS face swapping, FR face reenactment, EFS entire face synthesis, FE face editing, authentic reference class, unknown. */
                    forgeryType: "FS" | "FR" | "EFS" | "FE" | "authentic" | "unknown";
                    architecture: "CNN" | "CG" | "GAN" | "Diffusion" | "VAR" | "closed-source" | "authentic" | "other";
                    description?: string;
                    /** @description Where the algorithm was found (URL, case id). */
                    reference?: string;
                    /** @default true */
                    enabled?: boolean;
                    /** @description Per-algorithm threshold override; null = global default or calibration. */
                    threshold?: number | null;
                };
            };
        };
        responses: {
            /** @description Default Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Algorithm"];
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getAlgorithm: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Algorithm"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    deleteAlgorithm: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    updateAlgorithm: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description Unique (case-insensitive), no leading or trailing spaces. */
                    name?: string;
                    /** @description FS face swapping, FR face reenactment, EFS entire face synthesis, FE face editing, authentic reference class, unknown. */
                    forgeryType?: "FS" | "FR" | "EFS" | "FE" | "authentic" | "unknown";
                    architecture?: "CNN" | "CG" | "GAN" | "Diffusion" | "VAR" | "closed-source" | "authentic" | "other";
                    description?: string;
                    reference?: string;
                    enabled?: boolean;
                    /** @description Per-algorithm threshold override; null = global default or calibration. */
                    threshold?: number | null;
                };
            };
        };
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Algorithm"];
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listSamples: {
        parameters: {
            query: {
                limit: number;
                offset: number;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["Sample"][];
                        total: number;
                        limit: number;
                        offset: number;
                    };
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    enrolSamples: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "multipart/form-data": {
                    files: Blob[];
                };
            };
        };
        responses: {
            /** @description Nothing new: every file was already enrolled */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        created: number;
                        duplicates: number;
                        failed: number;
                        results: {
                            filename: string;
                            status: "created" | "duplicate" | "error";
                            sampleId?: string;
                            sha256?: string;
                            error?: components["schemas"]["ItemError"];
                        }[];
                    };
                };
            };
            /** @description At least one sample created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        created: number;
                        duplicates: number;
                        failed: number;
                        results: {
                            filename: string;
                            status: "created" | "duplicate" | "error";
                            sampleId?: string;
                            sha256?: string;
                            error?: components["schemas"]["ItemError"];
                        }[];
                    };
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getSampleThumbnail: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
                sampleId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The thumbnail */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "image/webp": Blob;
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    deleteSample: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
                sampleId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    attribute: {
        parameters: {
            query?: {
                /** @description Candidates returned (default 5). */
                k?: number;
                /** @description Override the threshold for this call (bounded to 0..1). */
                threshold?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "multipart/form-data": {
                    /**
                     * Format: binary
                     * @description Image (JPEG, PNG, WebP, GIF, TIFF, AVIF)
                     */
                    file: Blob;
                };
            };
        };
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Attribution"];
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    attributeBatch: {
        parameters: {
            query?: {
                /** @description Candidates returned (default 5). */
                k?: number;
                /** @description Override the threshold for this call (bounded to 0..1). */
                threshold?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "multipart/form-data": {
                    files: Blob[];
                };
            };
        };
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        results: {
                            filename: string;
                            result?: components["schemas"]["Attribution"];
                            error?: components["schemas"]["ItemError"];
                        }[];
                    };
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    giveFeedback: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description confirm: the answer was right; reject: the attributed algorithm was wrong (an impostor score for calibration); relabel: it was `algorithmId` (a genuine score of that algorithm). */
                    verdict: "confirm" | "reject" | "relabel";
                    /** @description relabel only: the right algorithm. */
                    algorithmId?: string;
                    /**
                     * @description confirm, relabel: add the upload as a sample of the algorithm the verdict names, from the vectors kept with the answer (the image bytes were not kept, so the sample cannot be re-embedded later).
                     * @default false
                     */
                    enrol?: boolean;
                };
            };
        };
        responses: {
            /** @description Default Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        attributionId: string;
                        /** @description What the answer decided. */
                        decision: "attributed" | "unknown" | "authentic";
                        /** @description The algorithm the answer named (null: unknown). */
                        attributed: string | null;
                        verdict: "confirm" | "reject" | "relabel";
                        /** @description The algorithm the verdict is about: the attributed one (confirm, reject) or the right one (relabel). */
                        algorithmId: string | null;
                        /** @description The sample enrolled from the upload (enrol). */
                        enrolled: {
                            sampleId: string;
                            duplicate: boolean;
                        } | null;
                    };
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getGallery: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        model: {
                            /** @description Index id: the model id, or for a fusion the models and weights (`a:1+b:0.5`); calibrations belong to it. */
                            id: string;
                            /** @description The served model list in DFG_MODEL syntax (`a,b:0.5`): see `source`. */
                            list: string;
                            /** @description `switch`: the list of a model switch (PUT /v1/model), made by this process or recorded by an earlier one and served at start because DFG_MODEL is unset. `config`: DFG_MODEL (unset: the default), also when it overrides a recorded switch or a recorded list could not be loaded. */
                            source: "config" | "switch";
                            /** @description DFG_MODEL of this process when set (it wins over a recorded switch at start), else null. */
                            configured: string | null;
                            /** @description The last successful model switch, recorded in the gallery store: a restart serves its list unless DFG_MODEL is set or the list can no longer be loaded. null: none. */
                            lastSwitch: {
                                /** @description The list switched to. */
                                list: string;
                                /** @description When (ISO 8601). */
                                at: string;
                                /** @description Switched with `force` past samples lacking a vector of a listed model. */
                                forced: boolean;
                            } | null;
                            version: string;
                            /** @description Dimension of the index vectors (the sum of the models' dimensions for a fusion). */
                            dimension: number;
                            members: {
                                id: string;
                                version: string;
                                dimension: number;
                                weight: number;
                                /** @description Samples with no vector of this model: left out of the index until re-embedded (dfg gallery reembed) or enrolled again. */
                                missingSamples: number;
                            }[];
                        };
                        /** @description Monotonic gallery version (last change sequence number). */
                        version: number;
                        counts: {
                            algorithms: number;
                            enabledAlgorithms: number;
                            /** @description Samples in the index (searched). */
                            samples: number;
                            /** @description Samples in the store. */
                            stored: number;
                            /** @description Stored samples lacking a vector of some served model, hence not searched. */
                            needsReembedding: number;
                        };
                        index: {
                            state: string;
                            size: number;
                            deleted: number;
                            lastSeq: number;
                            snapshotSeq: number;
                            builtFrom: string;
                        };
                        decision: {
                            threshold: number;
                            margin: number;
                            topM: number;
                            k: number;
                        };
                        calibration: {
                            version: number;
                            createdAt: string;
                            targetFpir: number;
                            global: number;
                            perAlgorithm: {
                                [key: string]: number;
                            };
                            /** @description Similarity of the calibration: its thresholds, and the scores /v1/attribute returns while it is current. */
                            metric: {
                                /** @description cosine, or wccn: cosine after whitening the within-algorithm scatter of the enrolled samples (DFG_METRIC). */
                                kind: "cosine" | "wccn";
                                /** @description wccn: weight of the identity in the whitened scatter, (0, 1]. */
                                shrinkage: number | null;
                                /** @description wccn: within-algorithm directions damped (0 for cosine). */
                                directions: number;
                                /** @description wccn: samples it was fitted on (0 for cosine). */
                                samples: number;
                            };
                            /** @description Score normalisation of the calibration: its thresholds, and the scores /v1/attribute returns while it is current. */
                            scoreNorm: {
                                /** @description asnorm: every score is normalised against the model's cohort (adaptive symmetric normalisation, reported as tanh(z / 4)) and all algorithms share the global threshold (DFG_SCORE_NORM); none: raw scores. */
                                kind: "none" | "asnorm";
                                /** @description asnorm: cohort scores kept on each side. */
                                topK: number | null;
                                /** @description asnorm: images in the cohort (0 for none). */
                                cohort: number;
                            };
                        } | null;
                    };
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getCalibration: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description Stored calibration version (null on a dry run). */
                        version: number | null;
                        targetFpir: number;
                        global: number;
                        /** @description Per enabled algorithm: its threshold and, left out one sample at a time, how often its samples score it highest (`looRank1`) and which algorithm takes the others (`confusedWith`): the registered algorithms the model mixes up, where more or more varied samples help. Absent in calibrations stored before these statistics existed. */
                        perAlgorithm: {
                            algorithmId: string;
                            /** @description The name now; the id when the algorithm has been deleted since. */
                            name: string;
                            samples: number;
                            threshold: number;
                            /** @description own, or global with the reason */
                            source: string;
                            /** @description Share of its leave-one-out genuine scores at or above its threshold. */
                            genuineAcceptance: number | null;
                            /** @description Share of impostor scores (other algorithms' samples, negatives) at or above its threshold. */
                            impostorAcceptance: number | null;
                            looRank1?: number | null;
                            /** @description The other algorithm that most often outscores it on its own samples (left out one at a time), with the share of its samples it takes; null when none does. */
                            confusedWith?: {
                                algorithmId: string;
                                name: string;
                                share: number;
                            } | null;
                            /** @description Of its genuine and impostor scores, those of answers analysts judged (confirmed or relabelled to it; rejected). */
                            feedback?: {
                                genuine: number;
                                impostors: number;
                            };
                        }[];
                        /** @description Samples of disabled algorithms used as impostors. */
                        negatives: number;
                        /** @description Similarity of the calibration: its thresholds, and the scores /v1/attribute returns while it is current. */
                        metric: {
                            /** @description cosine, or wccn: cosine after whitening the within-algorithm scatter of the enrolled samples (DFG_METRIC). */
                            kind: "cosine" | "wccn";
                            /** @description wccn: weight of the identity in the whitened scatter, (0, 1]. */
                            shrinkage: number | null;
                            /** @description wccn: within-algorithm directions damped (0 for cosine). */
                            directions: number;
                            /** @description wccn: samples it was fitted on (0 for cosine). */
                            samples: number;
                        };
                        /** @description Score normalisation of the calibration: its thresholds, and the scores /v1/attribute returns while it is current. */
                        scoreNorm: {
                            /** @description asnorm: every score is normalised against the model's cohort (adaptive symmetric normalisation, reported as tanh(z / 4)) and all algorithms share the global threshold (DFG_SCORE_NORM); none: raw scores. */
                            kind: "none" | "asnorm";
                            /** @description asnorm: cohort scores kept on each side. */
                            topK: number | null;
                            /** @description asnorm: images in the cohort (0 for none). */
                            cohort: number;
                        };
                        /** @description Analysts' feedback (POST /v1/attributions/{id}/feedback): the precision it shows now, and what this calibration took from it. */
                        feedback: {
                            /** @description Attributed answers of the served model that analysts confirmed. */
                            confirmed: number;
                            /** @description Attributed answers rejected. */
                            rejected: number;
                            /** @description Attributed answers relabelled to another algorithm (wrong too). */
                            relabelled: number;
                            /** @description Observed precision of attributions: confirmed / (confirmed + rejected + relabelled); null before any verdict on an attributed answer. */
                            precision: number | null;
                            /** @description Judged answers this calibration used as genuine and impostor scores. */
                            used: {
                                genuine: number;
                                impostors: number;
                            };
                        };
                    } & {
                        createdAt: string;
                        /** @description Made by the server on its own (DFG_AUTO_CALIBRATE_MS) rather than requested. */
                        automatic: boolean;
                        /** @description The index id it belongs to (the served model list). */
                        model: string;
                    };
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    calibrate: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description Default DFG_TARGET_FPIR. */
                    targetFpir?: number;
                    /**
                     * @description Calibration is quadratic in samples.
                     * @default 200
                     */
                    maxSamplesPerAlgorithm?: number;
                    /**
                     * @description Compute and return, store nothing.
                     * @default false
                     */
                    dryRun?: boolean;
                };
            };
        };
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description Stored calibration version (null on a dry run). */
                        version: number | null;
                        targetFpir: number;
                        global: number;
                        /** @description Per enabled algorithm: its threshold and, left out one sample at a time, how often its samples score it highest (`looRank1`) and which algorithm takes the others (`confusedWith`): the registered algorithms the model mixes up, where more or more varied samples help. Absent in calibrations stored before these statistics existed. */
                        perAlgorithm: {
                            algorithmId: string;
                            /** @description The name now; the id when the algorithm has been deleted since. */
                            name: string;
                            samples: number;
                            threshold: number;
                            /** @description own, or global with the reason */
                            source: string;
                            /** @description Share of its leave-one-out genuine scores at or above its threshold. */
                            genuineAcceptance: number | null;
                            /** @description Share of impostor scores (other algorithms' samples, negatives) at or above its threshold. */
                            impostorAcceptance: number | null;
                            looRank1?: number | null;
                            /** @description The other algorithm that most often outscores it on its own samples (left out one at a time), with the share of its samples it takes; null when none does. */
                            confusedWith?: {
                                algorithmId: string;
                                name: string;
                                share: number;
                            } | null;
                            /** @description Of its genuine and impostor scores, those of answers analysts judged (confirmed or relabelled to it; rejected). */
                            feedback?: {
                                genuine: number;
                                impostors: number;
                            };
                        }[];
                        /** @description Samples of disabled algorithms used as impostors. */
                        negatives: number;
                        /** @description Similarity of the calibration: its thresholds, and the scores /v1/attribute returns while it is current. */
                        metric: {
                            /** @description cosine, or wccn: cosine after whitening the within-algorithm scatter of the enrolled samples (DFG_METRIC). */
                            kind: "cosine" | "wccn";
                            /** @description wccn: weight of the identity in the whitened scatter, (0, 1]. */
                            shrinkage: number | null;
                            /** @description wccn: within-algorithm directions damped (0 for cosine). */
                            directions: number;
                            /** @description wccn: samples it was fitted on (0 for cosine). */
                            samples: number;
                        };
                        /** @description Score normalisation of the calibration: its thresholds, and the scores /v1/attribute returns while it is current. */
                        scoreNorm: {
                            /** @description asnorm: every score is normalised against the model's cohort (adaptive symmetric normalisation, reported as tanh(z / 4)) and all algorithms share the global threshold (DFG_SCORE_NORM); none: raw scores. */
                            kind: "none" | "asnorm";
                            /** @description asnorm: cohort scores kept on each side. */
                            topK: number | null;
                            /** @description asnorm: images in the cohort (0 for none). */
                            cohort: number;
                        };
                        /** @description Analysts' feedback (POST /v1/attributions/{id}/feedback): the precision it shows now, and what this calibration took from it. */
                        feedback: {
                            /** @description Attributed answers of the served model that analysts confirmed. */
                            confirmed: number;
                            /** @description Attributed answers rejected. */
                            rejected: number;
                            /** @description Attributed answers relabelled to another algorithm (wrong too). */
                            relabelled: number;
                            /** @description Observed precision of attributions: confirmed / (confirmed + rejected + relabelled); null before any verdict on an attributed answer. */
                            precision: number | null;
                            /** @description Judged answers this calibration used as genuine and impostor scores. */
                            used: {
                                genuine: number;
                                impostors: number;
                            };
                        };
                    };
                };
            };
            /** @description Default Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description Stored calibration version (null on a dry run). */
                        version: number | null;
                        targetFpir: number;
                        global: number;
                        /** @description Per enabled algorithm: its threshold and, left out one sample at a time, how often its samples score it highest (`looRank1`) and which algorithm takes the others (`confusedWith`): the registered algorithms the model mixes up, where more or more varied samples help. Absent in calibrations stored before these statistics existed. */
                        perAlgorithm: {
                            algorithmId: string;
                            /** @description The name now; the id when the algorithm has been deleted since. */
                            name: string;
                            samples: number;
                            threshold: number;
                            /** @description own, or global with the reason */
                            source: string;
                            /** @description Share of its leave-one-out genuine scores at or above its threshold. */
                            genuineAcceptance: number | null;
                            /** @description Share of impostor scores (other algorithms' samples, negatives) at or above its threshold. */
                            impostorAcceptance: number | null;
                            looRank1?: number | null;
                            /** @description The other algorithm that most often outscores it on its own samples (left out one at a time), with the share of its samples it takes; null when none does. */
                            confusedWith?: {
                                algorithmId: string;
                                name: string;
                                share: number;
                            } | null;
                            /** @description Of its genuine and impostor scores, those of answers analysts judged (confirmed or relabelled to it; rejected). */
                            feedback?: {
                                genuine: number;
                                impostors: number;
                            };
                        }[];
                        /** @description Samples of disabled algorithms used as impostors. */
                        negatives: number;
                        /** @description Similarity of the calibration: its thresholds, and the scores /v1/attribute returns while it is current. */
                        metric: {
                            /** @description cosine, or wccn: cosine after whitening the within-algorithm scatter of the enrolled samples (DFG_METRIC). */
                            kind: "cosine" | "wccn";
                            /** @description wccn: weight of the identity in the whitened scatter, (0, 1]. */
                            shrinkage: number | null;
                            /** @description wccn: within-algorithm directions damped (0 for cosine). */
                            directions: number;
                            /** @description wccn: samples it was fitted on (0 for cosine). */
                            samples: number;
                        };
                        /** @description Score normalisation of the calibration: its thresholds, and the scores /v1/attribute returns while it is current. */
                        scoreNorm: {
                            /** @description asnorm: every score is normalised against the model's cohort (adaptive symmetric normalisation, reported as tanh(z / 4)) and all algorithms share the global threshold (DFG_SCORE_NORM); none: raw scores. */
                            kind: "none" | "asnorm";
                            /** @description asnorm: cohort scores kept on each side. */
                            topK: number | null;
                            /** @description asnorm: images in the cohort (0 for none). */
                            cohort: number;
                        };
                        /** @description Analysts' feedback (POST /v1/attributions/{id}/feedback): the precision it shows now, and what this calibration took from it. */
                        feedback: {
                            /** @description Attributed answers of the served model that analysts confirmed. */
                            confirmed: number;
                            /** @description Attributed answers rejected. */
                            rejected: number;
                            /** @description Attributed answers relabelled to another algorithm (wrong too). */
                            relabelled: number;
                            /** @description Observed precision of attributions: confirmed / (confirmed + rejected + relabelled); null before any verdict on an attributed answer. */
                            precision: number | null;
                            /** @description Judged answers this calibration used as genuine and impostor scores. */
                            used: {
                                genuine: number;
                                impostors: number;
                            };
                        };
                    };
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    switchModel: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description The model list to serve, in DFG_MODEL syntax: `residual-v3`, or `a,b:0.5` for a fusion. */
                    model: string;
                    /**
                     * @description Switch even though stored samples lack a vector of a listed model: they are kept but not searched until re-embedded.
                     * @default false
                     */
                    force?: boolean;
                };
            };
        };
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description false when the list was already served (nothing reloaded; recorded if the record named another list). */
                        switched: boolean;
                        /** @description The list served before. */
                        previous: string;
                        /** @description The list served now. */
                        model: string;
                        /** @description The new index id has a stored calibration (its own; else DFG_THRESHOLD or the model default threshold applies until POST /v1/calibration). */
                        calibrated: boolean;
                        /** @description Checking and loading the new models and index, until they served. */
                        loadMs: number;
                        /** @description Waiting for requests in flight on the old models, and closing them. */
                        drainMs: number;
                        gallery: {
                            model: {
                                /** @description Index id: the model id, or for a fusion the models and weights (`a:1+b:0.5`); calibrations belong to it. */
                                id: string;
                                /** @description The served model list in DFG_MODEL syntax (`a,b:0.5`): see `source`. */
                                list: string;
                                /** @description `switch`: the list of a model switch (PUT /v1/model), made by this process or recorded by an earlier one and served at start because DFG_MODEL is unset. `config`: DFG_MODEL (unset: the default), also when it overrides a recorded switch or a recorded list could not be loaded. */
                                source: "config" | "switch";
                                /** @description DFG_MODEL of this process when set (it wins over a recorded switch at start), else null. */
                                configured: string | null;
                                /** @description The last successful model switch, recorded in the gallery store: a restart serves its list unless DFG_MODEL is set or the list can no longer be loaded. null: none. */
                                lastSwitch: {
                                    /** @description The list switched to. */
                                    list: string;
                                    /** @description When (ISO 8601). */
                                    at: string;
                                    /** @description Switched with `force` past samples lacking a vector of a listed model. */
                                    forced: boolean;
                                } | null;
                                version: string;
                                /** @description Dimension of the index vectors (the sum of the models' dimensions for a fusion). */
                                dimension: number;
                                members: {
                                    id: string;
                                    version: string;
                                    dimension: number;
                                    weight: number;
                                    /** @description Samples with no vector of this model: left out of the index until re-embedded (dfg gallery reembed) or enrolled again. */
                                    missingSamples: number;
                                }[];
                            };
                            /** @description Monotonic gallery version (last change sequence number). */
                            version: number;
                            counts: {
                                algorithms: number;
                                enabledAlgorithms: number;
                                /** @description Samples in the index (searched). */
                                samples: number;
                                /** @description Samples in the store. */
                                stored: number;
                                /** @description Stored samples lacking a vector of some served model, hence not searched. */
                                needsReembedding: number;
                            };
                            index: {
                                state: string;
                                size: number;
                                deleted: number;
                                lastSeq: number;
                                snapshotSeq: number;
                                builtFrom: string;
                            };
                            decision: {
                                threshold: number;
                                margin: number;
                                topM: number;
                                k: number;
                            };
                            calibration: {
                                version: number;
                                createdAt: string;
                                targetFpir: number;
                                global: number;
                                perAlgorithm: {
                                    [key: string]: number;
                                };
                                /** @description Similarity of the calibration: its thresholds, and the scores /v1/attribute returns while it is current. */
                                metric: {
                                    /** @description cosine, or wccn: cosine after whitening the within-algorithm scatter of the enrolled samples (DFG_METRIC). */
                                    kind: "cosine" | "wccn";
                                    /** @description wccn: weight of the identity in the whitened scatter, (0, 1]. */
                                    shrinkage: number | null;
                                    /** @description wccn: within-algorithm directions damped (0 for cosine). */
                                    directions: number;
                                    /** @description wccn: samples it was fitted on (0 for cosine). */
                                    samples: number;
                                };
                                /** @description Score normalisation of the calibration: its thresholds, and the scores /v1/attribute returns while it is current. */
                                scoreNorm: {
                                    /** @description asnorm: every score is normalised against the model's cohort (adaptive symmetric normalisation, reported as tanh(z / 4)) and all algorithms share the global threshold (DFG_SCORE_NORM); none: raw scores. */
                                    kind: "none" | "asnorm";
                                    /** @description asnorm: cohort scores kept on each side. */
                                    topK: number | null;
                                    /** @description asnorm: images in the cohort (0 for none). */
                                    cohort: number;
                                };
                            } | null;
                        };
                    };
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    exportBundle: {
        parameters: {
            query: {
                /** @description Comma-separated algorithm ids or names. */
                algorithms: string;
                /** @description Include the kept image bytes (a gallery served by another model can then embed them). */
                images: boolean;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The bundle (application/octet-stream) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": Blob;
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    importBundle: {
        parameters: {
            query: {
                /** @description An algorithm name the gallery has: new (import under `name (publisher)`), merge (add its samples), skip. */
                onConflict: "new" | "merge" | "skip";
                /** @description true: run the import as a job (202) whatever its size; false: import in the request (200). Absent: a job when the bundle holds more than DFG_IMPORT_SYNC_MAX_SAMPLES samples. */
                async?: boolean;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description The gallery's record of the bundle: imported samples and algorithms name it in their provenance. */
                        bundleId: string;
                        bundleSha256: string;
                        publisher: string;
                        /** @description SHA-256 (hex) of the publisher key the signature verified with. */
                        keyFingerprint: string;
                        /** @description Per served model: vectors used from the bundle, or embedded from its image bytes. */
                        models: {
                            [key: string]: "bundle" | "embedded";
                        };
                        algorithms: {
                            /** @description Name in the bundle. */
                            name: string;
                            action: "created" | "merged" | "skipped";
                            id?: string;
                            galleryName?: string;
                            created: number;
                            duplicates: number;
                        }[];
                        /** @description Samples in the bundle. */
                        total: number;
                        /** @description Samples imported. */
                        created: number;
                        /** @description Samples the gallery had (by sha256). */
                        duplicates: number;
                        /** @description Samples of algorithms left out (onConflict=skip). */
                        skipped: number;
                        /** @description Images embedded again from the bundle's bytes. */
                        reembedded: number;
                    };
                };
            };
            /** @description Default Response */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        jobId: string;
                        kind: "enrol" | "audit" | "reembed" | "import";
                        /** @description waiting: no chunk started; active: chunks running; completed: every chunk recorded; failed: finished, but a chunk was given up (its images carry DFG_ERR_JOB_CHUNK_FAILED); cancelled: stopped on request. */
                        state: "waiting" | "active" | "completed" | "failed" | "cancelled";
                        /** @description Images (and skipped entries) in the job. */
                        total: number;
                        /** @description Where to follow the job. */
                        location: string;
                    };
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listAudit: {
        parameters: {
            query: {
                /** @description Rows after this audit seq (an integer), or at or after this time (ISO 8601, e.g. `2026-12-01` or `2026-12-01T09:30:00Z`). */
                since?: string;
                limit: number;
                /** @description The `nextCursor` of the previous page. */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: {
                            /** @description Increasing, never reused. */
                            seq: number;
                            /** @description When (ISO 8601, UTC). */
                            at: string;
                            /** @description The API key id that made the change; null with auth off, from the CLI, or by the server on its own (automatic calibration). */
                            keyId: string | null;
                            action: "algorithm.create" | "algorithm.update" | "algorithm.delete" | "samples.enrol" | "sample.delete" | "vectors.add" | "bundle.import" | "calibration.save" | "model.switch" | "attribution.feedback";
                            /** @description The algorithm, sample, model list, bundle or attribution id it concerns. */
                            subject: string | null;
                            /** @description What changed: for an update the changed fields as [before, after]; `context` says what caused it (an import, a job, feedback on an attribution). */
                            detail: {
                                [key: string]: unknown;
                            };
                        }[];
                        /** @description Pass as `cursor` for the next page; null when this page is the last one for now. */
                        nextCursor: string | null;
                    };
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createEnrolmentJob: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description Id of a registered algorithm. */
                    algorithmId: string;
                    source: {
                        /** @enum {string} */
                        type: "directory";
                        /** @description Absolute server-side path below one of DFG_IMPORT_ROOTS; read recursively, symlinks ignored. */
                        path: string;
                    } | {
                        /** @enum {string} */
                        type: "urls";
                        /** @description http(s) URLs on hosts of DFG_URL_ALLOWLIST. */
                        urls: string[];
                    };
                };
                "multipart/form-data": {
                    /** @description Required. Id of a registered algorithm. */
                    algorithmId?: string;
                    /**
                     * Format: binary
                     * @description Required. zip, tar or tar.gz of images (recognised by content). Non-image entries are reported and skipped; symlinks ignored.
                     */
                    archive?: Blob;
                };
            };
        };
        responses: {
            /** @description Default Response */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        jobId: string;
                        kind: "enrol" | "audit" | "reembed" | "import";
                        /** @description waiting: no chunk started; active: chunks running; completed: every chunk recorded; failed: finished, but a chunk was given up (its images carry DFG_ERR_JOB_CHUNK_FAILED); cancelled: stopped on request. */
                        state: "waiting" | "active" | "completed" | "failed" | "cancelled";
                        /** @description Images (and skipped entries) in the job. */
                        total: number;
                        /** @description Where to follow the job. */
                        location: string;
                    };
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createAuditJob: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    source: {
                        /** @enum {string} */
                        type: "directory";
                        /** @description Absolute server-side path below one of DFG_IMPORT_ROOTS; read recursively, symlinks ignored. */
                        path: string;
                    } | {
                        /** @enum {string} */
                        type: "urls";
                        /** @description http(s) URLs on hosts of DFG_URL_ALLOWLIST. */
                        urls: string[];
                    };
                };
                "multipart/form-data": {
                    /**
                     * Format: binary
                     * @description Required. zip, tar or tar.gz of images (recognised by content). Non-image entries are reported and skipped; symlinks ignored.
                     */
                    archive?: Blob;
                };
            };
        };
        responses: {
            /** @description Default Response */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        jobId: string;
                        kind: "enrol" | "audit" | "reembed" | "import";
                        /** @description waiting: no chunk started; active: chunks running; completed: every chunk recorded; failed: finished, but a chunk was given up (its images carry DFG_ERR_JOB_CHUNK_FAILED); cancelled: stopped on request. */
                        state: "waiting" | "active" | "completed" | "failed" | "cancelled";
                        /** @description Images (and skipped entries) in the job. */
                        total: number;
                        /** @description Where to follow the job. */
                        location: string;
                    };
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createReembedJob: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description Model (models/<id>/) whose vectors every sample lacking one gets. */
                    modelId: string;
                };
            };
        };
        responses: {
            /** @description Default Response */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        jobId: string;
                        kind: "enrol" | "audit" | "reembed" | "import";
                        /** @description waiting: no chunk started; active: chunks running; completed: every chunk recorded; failed: finished, but a chunk was given up (its images carry DFG_ERR_JOB_CHUNK_FAILED); cancelled: stopped on request. */
                        state: "waiting" | "active" | "completed" | "failed" | "cancelled";
                        /** @description Images (and skipped entries) in the job. */
                        total: number;
                        /** @description Where to follow the job. */
                        location: string;
                    };
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listJobs: {
        parameters: {
            query: {
                limit: number;
                offset: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: {
                            id: string;
                            kind: "enrol" | "audit" | "reembed" | "import";
                            /** @description waiting: no chunk started; active: chunks running; completed: every chunk recorded; failed: finished, but a chunk was given up (its images carry DFG_ERR_JOB_CHUNK_FAILED); cancelled: stopped on request. */
                            state: "waiting" | "active" | "completed" | "failed" | "cancelled";
                            /** @description Enrolments: the algorithm enrolled into. */
                            algorithmId: string | null;
                            source: {
                                type: "archive" | "directory" | "urls" | "gallery" | "bundle";
                                name: string;
                            };
                            progress: {
                                total: number;
                                /** @description Images finished, with or without an error (imports: samples of the bundle applied so far). */
                                done: number;
                                failed: number;
                                percent: number;
                                chunks: {
                                    total: number;
                                    done: number;
                                    /** @description Chunks given up after their attempts. */
                                    failed: number;
                                };
                            };
                            /** @description Images by outcome. Enrolments: created, duplicate, error. Audits: attributed, unknown, authentic, error. Re-embeddings: stored, present, not-kept, error. Imports (samples, once finished): created, duplicate, skipped, reembedded (images embedded again), error. */
                            counts: {
                                [key: string]: number;
                            };
                            /** @description Audits: attributed and authentic images per algorithm, most first. */
                            algorithms: {
                                id: string;
                                name: string;
                                count: number;
                            }[] | null;
                            timings: {
                                /** Format: date-time */
                                createdAt: string;
                                /** Format: date-time */
                                startedAt: string | null;
                                /** Format: date-time */
                                finishedAt: string | null;
                                waitMs: number | null;
                                runMs: number | null;
                                imagesPerSecond: number | null;
                            };
                            import?: {
                                /** @description The gallery's record of the bundle: imported samples and algorithms name it in their provenance. */
                                bundleId: string;
                                bundleSha256: string;
                                publisher: string;
                                /** @description SHA-256 (hex) of the publisher key the signature verified with. */
                                keyFingerprint: string;
                                /** @description Per served model: vectors used from the bundle, or embedded from its image bytes. */
                                models: {
                                    [key: string]: "bundle" | "embedded";
                                };
                                algorithms: {
                                    /** @description Name in the bundle. */
                                    name: string;
                                    action: "created" | "merged" | "skipped";
                                    id?: string;
                                    galleryName?: string;
                                    created: number;
                                    duplicates: number;
                                }[];
                                /** @description Samples in the bundle. */
                                total: number;
                                /** @description Samples imported. */
                                created: number;
                                /** @description Samples the gallery had (by sha256). */
                                duplicates: number;
                                /** @description Samples of algorithms left out (onConflict=skip). */
                                skipped: number;
                                /** @description Images embedded again from the bundle's bytes. */
                                reembedded: number;
                            };
                            errors?: {
                                total: number;
                                truncated: boolean;
                                /** @description Item errors (file name, URL or entry, and catalogue code), at most 1000. */
                                items: {
                                    name: string;
                                    code: string;
                                    message: string;
                                }[];
                            };
                        }[];
                        total: number;
                        limit: number;
                        offset: number;
                    };
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getJob: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        id: string;
                        kind: "enrol" | "audit" | "reembed" | "import";
                        /** @description waiting: no chunk started; active: chunks running; completed: every chunk recorded; failed: finished, but a chunk was given up (its images carry DFG_ERR_JOB_CHUNK_FAILED); cancelled: stopped on request. */
                        state: "waiting" | "active" | "completed" | "failed" | "cancelled";
                        /** @description Enrolments: the algorithm enrolled into. */
                        algorithmId: string | null;
                        source: {
                            type: "archive" | "directory" | "urls" | "gallery" | "bundle";
                            name: string;
                        };
                        progress: {
                            total: number;
                            /** @description Images finished, with or without an error (imports: samples of the bundle applied so far). */
                            done: number;
                            failed: number;
                            percent: number;
                            chunks: {
                                total: number;
                                done: number;
                                /** @description Chunks given up after their attempts. */
                                failed: number;
                            };
                        };
                        /** @description Images by outcome. Enrolments: created, duplicate, error. Audits: attributed, unknown, authentic, error. Re-embeddings: stored, present, not-kept, error. Imports (samples, once finished): created, duplicate, skipped, reembedded (images embedded again), error. */
                        counts: {
                            [key: string]: number;
                        };
                        /** @description Audits: attributed and authentic images per algorithm, most first. */
                        algorithms: {
                            id: string;
                            name: string;
                            count: number;
                        }[] | null;
                        timings: {
                            /** Format: date-time */
                            createdAt: string;
                            /** Format: date-time */
                            startedAt: string | null;
                            /** Format: date-time */
                            finishedAt: string | null;
                            waitMs: number | null;
                            runMs: number | null;
                            imagesPerSecond: number | null;
                        };
                        import?: {
                            /** @description The gallery's record of the bundle: imported samples and algorithms name it in their provenance. */
                            bundleId: string;
                            bundleSha256: string;
                            publisher: string;
                            /** @description SHA-256 (hex) of the publisher key the signature verified with. */
                            keyFingerprint: string;
                            /** @description Per served model: vectors used from the bundle, or embedded from its image bytes. */
                            models: {
                                [key: string]: "bundle" | "embedded";
                            };
                            algorithms: {
                                /** @description Name in the bundle. */
                                name: string;
                                action: "created" | "merged" | "skipped";
                                id?: string;
                                galleryName?: string;
                                created: number;
                                duplicates: number;
                            }[];
                            /** @description Samples in the bundle. */
                            total: number;
                            /** @description Samples imported. */
                            created: number;
                            /** @description Samples the gallery had (by sha256). */
                            duplicates: number;
                            /** @description Samples of algorithms left out (onConflict=skip). */
                            skipped: number;
                            /** @description Images embedded again from the bundle's bytes. */
                            reembedded: number;
                        };
                        errors?: {
                            total: number;
                            truncated: boolean;
                            /** @description Item errors (file name, URL or entry, and catalogue code), at most 1000. */
                            items: {
                                name: string;
                                code: string;
                                message: string;
                            }[];
                        };
                    };
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    cancelJob: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        id: string;
                        kind: "enrol" | "audit" | "reembed" | "import";
                        /** @description waiting: no chunk started; active: chunks running; completed: every chunk recorded; failed: finished, but a chunk was given up (its images carry DFG_ERR_JOB_CHUNK_FAILED); cancelled: stopped on request. */
                        state: "waiting" | "active" | "completed" | "failed" | "cancelled";
                        /** @description Enrolments: the algorithm enrolled into. */
                        algorithmId: string | null;
                        source: {
                            type: "archive" | "directory" | "urls" | "gallery" | "bundle";
                            name: string;
                        };
                        progress: {
                            total: number;
                            /** @description Images finished, with or without an error (imports: samples of the bundle applied so far). */
                            done: number;
                            failed: number;
                            percent: number;
                            chunks: {
                                total: number;
                                done: number;
                                /** @description Chunks given up after their attempts. */
                                failed: number;
                            };
                        };
                        /** @description Images by outcome. Enrolments: created, duplicate, error. Audits: attributed, unknown, authentic, error. Re-embeddings: stored, present, not-kept, error. Imports (samples, once finished): created, duplicate, skipped, reembedded (images embedded again), error. */
                        counts: {
                            [key: string]: number;
                        };
                        /** @description Audits: attributed and authentic images per algorithm, most first. */
                        algorithms: {
                            id: string;
                            name: string;
                            count: number;
                        }[] | null;
                        timings: {
                            /** Format: date-time */
                            createdAt: string;
                            /** Format: date-time */
                            startedAt: string | null;
                            /** Format: date-time */
                            finishedAt: string | null;
                            waitMs: number | null;
                            runMs: number | null;
                            imagesPerSecond: number | null;
                        };
                        import?: {
                            /** @description The gallery's record of the bundle: imported samples and algorithms name it in their provenance. */
                            bundleId: string;
                            bundleSha256: string;
                            publisher: string;
                            /** @description SHA-256 (hex) of the publisher key the signature verified with. */
                            keyFingerprint: string;
                            /** @description Per served model: vectors used from the bundle, or embedded from its image bytes. */
                            models: {
                                [key: string]: "bundle" | "embedded";
                            };
                            algorithms: {
                                /** @description Name in the bundle. */
                                name: string;
                                action: "created" | "merged" | "skipped";
                                id?: string;
                                galleryName?: string;
                                created: number;
                                duplicates: number;
                            }[];
                            /** @description Samples in the bundle. */
                            total: number;
                            /** @description Samples imported. */
                            created: number;
                            /** @description Samples the gallery had (by sha256). */
                            duplicates: number;
                            /** @description Samples of algorithms left out (onConflict=skip). */
                            skipped: number;
                            /** @description Images embedded again from the bundle's bytes. */
                            reembedded: number;
                        };
                        errors?: {
                            total: number;
                            truncated: boolean;
                            /** @description Item errors (file name, URL or entry, and catalogue code), at most 1000. */
                            items: {
                                name: string;
                                code: string;
                                message: string;
                            }[];
                        };
                    };
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getJobResults: {
        parameters: {
            query: {
                format: "ndjson" | "csv";
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description NDJSON lines or CSV with a header row */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/x-ndjson": string;
                    "text/csv": string;
                };
            };
            /** @description Default Response */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/x-ndjson": components["schemas"]["Error"];
                    "text/csv": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/x-ndjson": components["schemas"]["Error"];
                    "text/csv": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/x-ndjson": components["schemas"]["Error"];
                    "text/csv": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/x-ndjson": components["schemas"]["Error"];
                    "text/csv": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/x-ndjson": components["schemas"]["Error"];
                    "text/csv": components["schemas"]["Error"];
                };
            };
            /** @description Default Response */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/x-ndjson": components["schemas"]["Error"];
                    "text/csv": components["schemas"]["Error"];
                };
            };
        };
    };
}
