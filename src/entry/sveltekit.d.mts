// Types of the ESM entry of `sessionkit/sveltekit`: the same declarations as the CommonJS build.
export * from '../cjs/adapters/sveltekit/handle.js'
