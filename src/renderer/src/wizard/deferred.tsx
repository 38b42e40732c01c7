import { lazy, useState, type ComponentType } from 'react';

/**
 * A component whose code is a chunk of its own, so the first page does not wait for the code of every
 * later one: on a slow machine (a live ISO under emulation) each kilobyte of script costs time before
 * Welcome shows. `preload()` fetches it ahead (once Welcome is usable); rendered before that, it
 * suspends until its chunk is there.
 */
export interface Deferred<P extends object> {
  readonly Component: ComponentType<P>;
  preload(): Promise<void>;
}

export function deferred<P extends object>(load: () => Promise<ComponentType<P>>): Deferred<P> {
  let loaded: ComponentType<P> | null = null;
  let loading: Promise<{ default: ComponentType<P> }> | undefined;
  const get = (): Promise<{ default: ComponentType<P> }> =>
    (loading ??= load().then((component) => {
      loaded = component;
      return { default: component };
    }));
  const Lazy = lazy(get);
  function Component(props: P) {
    // Preloaded: render the component itself, never suspending. Chosen once per mount, so a later
    // render cannot swap the type under mounted state.
    const [Chosen] = useState<ComponentType<P>>(() => loaded ?? (Lazy as unknown as ComponentType<P>));
    return <Chosen {...props} />;
  }
  return { Component, preload: () => get().then(() => undefined) };
}

/** Shown in place of a deferred component while its chunk is still on the way (rarely: it is preloaded). */
export function ChunkLoading() {
  return (
    <div className="loading" aria-busy="true">
      <span className="spinner" aria-hidden="true" />
    </div>
  );
}
