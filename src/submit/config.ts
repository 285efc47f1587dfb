/**
 * The submit CLI's environment settings; its flags override them.
 *
 * @module
 */
import { COMMON } from "../config.ts";
import { DURABILITY } from "../bus/durable/mode.ts";

/** Every variable the submit CLI reads. */
export const SUBMIT_SETTINGS = { ...COMMON, durability: DURABILITY };
