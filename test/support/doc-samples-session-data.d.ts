// What the documentation's samples take from the app's own declarations: the session data it keeps,
// and the environment variable it requires (a TypeScript app declares that it is set, and sessionkit
// refuses to start when it is not). The samples are checked as right for an app that declared these.
export {}

declare module 'sessionkit' {
  interface SessionData {
    userId: number
    views: number
    cart: string[]
  }
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace NodeJS {
    interface ProcessEnv {
      SESSION_SECRET: string
      SESSION_KEY_1: string
      SESSION_KEY_2: string
    }
  }
}
