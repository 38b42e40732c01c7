import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { I18nextProvider } from 'react-i18next';
import { connect } from './api';
import { App } from './App';
import { branding } from './branding';
import { applyLocale, createI18n } from './i18n';
import { matchLocale } from './i18n/locales';
import { pseudoRequested } from './i18n/pseudo';
import { createAppStore } from './store';
import { StoreContext } from './store/react';
import { applyBrandColors } from './theme';
import { STEPS } from './wizard/steps';
import './styles/app.css';

const { api, transport } = connect();
const locale = matchLocale(navigator.languages);
const store = createAppStore({ api, stepCount: STEPS.length, locale });
const i18n = createI18n(locale, { pseudo: pseudoRequested(window.location.search) });
applyLocale(i18n, locale);

// The language lives in the store; i18next and <html lang dir> follow it synchronously.
store.subscribe((state, previous) => {
  if (state.locale !== previous.locale) applyLocale(i18n, state.locale);
  if (state.ui.contrast !== previous.ui.contrast) document.documentElement.dataset.contrast = state.ui.contrast;
});
document.documentElement.dataset.contrast = store.getState().ui.contrast;

applyBrandColors(branding.colors);

// The engine is the source of truth for the install: read it once connected (and whenever the
// connection is ready again), then fold its progress events in. A page reloaded mid-install thus
// shows the progress page at once.
store.subscribe((state, previous) => {
  if (state.engine.status === 'ready' && previous.engine.status !== 'ready') void state.loadInstallState();
});
api.on('progress', (event) => store.getState().applyProgress(event));
api.on('engineLost', ({ error }) => store.getState().engineLost(error));
api.on('disksChanged', () => {
  // Only refresh a list someone has already seen; the Disk page loads its own on arrival.
  if (store.getState().disks.list) void store.getState().loadDisks();
});
void store.getState().loadEngineInfo();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <StoreContext.Provider value={store}>
      <I18nextProvider i18n={i18n}>
        <App browser={transport === 'websocket'} />
      </I18nextProvider>
    </StoreContext.Provider>
  </StrictMode>,
);
