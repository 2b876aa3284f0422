// Types of the CommonJS entry, where the module itself is the factory.
import sessionkit = require('./index.js')

export = sessionkit
