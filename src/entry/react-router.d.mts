// Types of the ESM entry of `sessionkit/react-router`: the same declarations as the CommonJS build.
export * from '../cjs/adapters/react-router/session-storage.js'
