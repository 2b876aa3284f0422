import { reactRouter } from '@react-router/dev/vite'
import { defineConfig } from 'vite'

export default defineConfig({
  plugins: [reactRouter()],
  // sessionkit and the Redis client are Node packages: the server build imports them at run time.
  ssr: { external: ['sessionkit', 'redis'] },
})
