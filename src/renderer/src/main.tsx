import './zod-config';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { I18nextProvider } from 'react-i18next';
import { connect } from './api';
import { App } from './App';
import { branding } from './branding';
import { addLocale, applyLocale, createI18nWith } from './i18n/instance';
import { ENGLISH, loadLocale, preloadLocales } from './i18n/load';
import { matchLocale, type LocaleCode } from './i18n/locales';
import { pseudoRequested } from './i18n/pseudo';
import { installView } from './install/model';
import { createAppStore } from './store';
import { StoreContext } from './store/react';
import { applyBrandColors } from './theme';
import { requirementParams } from './welcome/requirements';
import { STEPS, preloadSteps } from './wizard/steps';
import './styles/app.css';

const { api, transport } = connect();
const locale = matchLocale(navigator.languages);
const store = createAppStore({ api, stepCount: STEPS.length, locale });
const i18n = createI18nWith({ en: ENGLISH }, 'en', { pseudo: pseudoRequested(window.location.search) });

// The language lives in the store; i18next and <html lang dir> follow it as soon as its strings are
// here: English at once, another language the first time it is chosen (a chunk of its own, i18n/load.ts).
let wanted: LocaleCode = locale;
function followLocale(code: LocaleCode): Promise<void> {
  wanted = code;
  return loadLocale(code).then(
    (translation) => {
      addLocale(i18n, code, translation);
      if (wanted === code) applyLocale(i18n, code);
    },
    // Not fetched (the engine that serves the page is gone, which the page shows): keep the language shown.
    () => undefined,
  );
}
store.subscribe((state, previous) => {
  if (state.locale !== previous.locale) void followLocale(state.locale);
  if (state.ui.contrast !== previous.ui.contrast) document.documentElement.dataset.contrast = state.ui.contrast;
});
document.documentElement.dataset.contrast = store.getState().ui.contrast;

applyBrandColors(branding.colors);

// The engine is the source of truth for the install: read it at once, then fold its progress events
// in. A page reloaded mid-install thus shows the progress page at once. The engine's facts, the
// install's state and (once both say the wizard shows) Welcome's requirement checks are asked without
// waiting for the page to render in between: on a slow machine each wait costs seconds.
api.on('progress', (event) => store.getState().applyProgress(event));
api.on('engineLost', ({ error }) => store.getState().engineLost(error));
api.on('disksChanged', () => {
  // Only refresh a list someone has already seen; the Disk page loads its own on arrival.
  if (store.getState().disks.list) void store.getState().loadDisks();
});
const unsubscribeChecks = store.subscribe((state) => {
  if (state.engine.status !== 'ready' || state.install.state === null) return;
  unsubscribeChecks();
  const { requirements } = state;
  if (installView(state.install.state, state.install.dismissed) === null && !requirements.checks && !requirements.loading) {
    void state.checkRequirements(requirementParams(branding, state.engine.info));
  }
});
void store.getState().loadEngineInfo();
void store.getState().loadInstallState();

// The later pages' code and the other languages are fetched once Welcome's checks have answered (so
// they do not compete with them), while the person reads the page; a page or language wanted before
// then is fetched when it is.
const unsubscribePreload = store.subscribe((state) => {
  if (state.requirements.checks === null && state.requirements.error === null) return;
  unsubscribePreload();
  requestIdleCallback(() => void Promise.all([preloadSteps(), preloadLocales()]).catch(() => undefined), { timeout: 2000 });
});

// Drawn once the first language's strings are here (at once for English); until then the page shows
// index.html's own "Starting the installer" in every language.
void followLocale(locale).then(() =>
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <StoreContext.Provider value={store}>
        <I18nextProvider i18n={i18n}>
          <App browser={transport === 'websocket'} />
        </I18nextProvider>
      </StoreContext.Provider>
    </StrictMode>,
  ),
);
