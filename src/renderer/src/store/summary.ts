import { buildRequest } from '../request';
import type { Slice, SummarySlice } from './types';

const EMPTY: SummarySlice['summary'] = {
  plan: null,
  planning: false,
  planError: null,
  image: null,
  imageLoading: false,
  imageError: null,
  exported: null,
  targets: null,
  exporting: false,
  saving: false,
  saveError: null,
};

/**
 * The Summary page's conversation with the engine. Planning writes nothing; only the Install
 * confirmation (InstallSlice.beginInstall) does. Each arrival plans again, so a plan shown is always
 * the plan of what the wizard holds now.
 */
export const summarySlice: Slice<SummarySlice> = ({ api }) => (set, get) => {
  let generation = 0;
  return {
    summary: EMPTY,
    async planSummary() {
      const mine = ++generation;
      const request = buildRequest(get());
      set({ summary: { ...EMPTY, planning: true, imageLoading: true } });
      const image = request.image;
      const [plan, info] = await Promise.all([api.planInstall({ request }), api.inspectImage({ image })]);
      if (mine !== generation) return;
      set(({ summary }) => ({
        summary: {
          ...summary,
          planning: false,
          plan: plan.ok ? plan.value : null,
          planError: plan.ok ? null : plan.error,
          imageLoading: false,
          image: info.ok ? info.value : null,
          imageError: info.ok ? null : info.error,
        },
      }));
    },
    async prepareExport() {
      const mine = generation;
      const request = buildRequest(get());
      set(({ summary }) => ({ summary: { ...summary, exporting: true, exported: null, targets: null, saveError: null } }));
      const [exported, targets] = await Promise.all([api.exportAnswerFile({ request }), api.listSaveTargets({})]);
      if (mine !== generation) return;
      set(({ summary }) => ({
        summary: {
          ...summary,
          exporting: false,
          exported: exported.ok ? exported.value : null,
          // No removable targets (or no answer) still leaves the download.
          targets: targets.ok ? targets.value.targets : [],
          saveError: exported.ok ? null : exported.error,
        },
      }));
    },
    async saveAnswerFile(target) {
      const exported = get().summary.exported;
      // Saving writes exactly what was exported and shown, never a newer request.
      if (!exported) return null;
      set(({ summary }) => ({ summary: { ...summary, saving: true, saveError: null } }));
      const r = await api.saveFile({ kind: 'answer-file', text: exported.text, target: target.type === 'device' ? { type: 'device', path: target.path } : { type: 'download' } });
      set(({ summary }) => ({ summary: { ...summary, saving: false, saveError: r.ok ? null : r.error } }));
      return r.ok ? r.value : null;
    },
  };
};
