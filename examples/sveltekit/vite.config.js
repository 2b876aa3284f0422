import { sveltekit } from '@sveltejs/kit/vite'
import { defineConfig } from 'vite'

export default defineConfig({
  plugins: [sveltekit()],
  // sessionkit and the Redis client are Node packages: the server imports them at run time.
  ssr: { external: ['sessionkit', 'redis'] },
})
