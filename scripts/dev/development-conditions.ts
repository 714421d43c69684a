import { register } from 'node:module';

/**
 * Adds the `development` export condition to every later import, so workspace packages
 * (`@sagaflow/*`) resolve to their src/*.ts even when this script was started as plain
 * `tsx scripts/<name>.ts`. Import this module first and load the rest with a dynamic import():
 * static imports are resolved before any code runs.
 */
const hook = `export async function resolve(specifier, context, next) {
  const conditions = context.conditions.includes('development') ? context.conditions : [...context.conditions, 'development'];
  return next(specifier, { ...context, conditions });
}`;

register(`data:text/javascript,${encodeURIComponent(hook)}`);
