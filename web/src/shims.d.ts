/** Single-file components, as the .ts entry sees them (Vite compiles them; tsc only needs their type). */
declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent;
  export default component;
}

/** Stylesheets Vite bundles. */
declare module '*.css' {}
