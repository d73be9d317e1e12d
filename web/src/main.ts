import { createApp } from 'vue';
import App from './App.vue';
import { startRouter } from './lib/router.js';
import { startLive } from './lib/live.js';
import './style.css';

/** The dashboard: the router reads the address, the event stream keeps the stores current. */
startRouter();
startLive();
createApp(App).mount('#app');
