/**
 * `--import` this module (NODE_OPTIONS) to append the URL of every module the process imports, one
 * a line, to the file $DFG_MODULE_LOG: what `dfg` loads at start-up, seen from outside.
 */
import { register } from 'node:module';

register('./module-log-hooks.js', import.meta.url);
