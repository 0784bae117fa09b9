/** What an API key may do. Apart from auth.ts so that `dfg keys create --help` can name them without loading TypeBox. */
export const SCOPES = ['attribute', 'register', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];
