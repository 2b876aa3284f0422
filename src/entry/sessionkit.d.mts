// Types of the ESM entry: the same declarations as the CommonJS build, with the factory as default.
import { session } from '../cjs/index.js'

export * from '../cjs/index.js'
export default session
