import type { ReactNode } from 'react';
import { branding } from '../branding';

/** The default mark, drawn inline, for a branding without a logo of its own. */
function Mark() {
  return (
    <svg className="logo" viewBox="0 0 32 32" width="32" height="32" aria-hidden="true" focusable="false">
      <circle cx="16" cy="16" r="15" fill="currentColor" opacity="0.14" />
      <circle cx="16" cy="16" r="5.5" fill="currentColor" />
      <circle cx="25" cy="9" r="2.5" fill="currentColor" opacity="0.75" />
      <circle cx="8" cy="23" r="2" fill="currentColor" opacity="0.55" />
    </svg>
  );
}

export function Header({ children }: { children?: ReactNode }) {
  return (
    <header className="app-header">
      <div className="brand">
        {/* The product name next to it says it all: the logo is decoration (empty alt). */}
        {branding.logo ? <img className="logo" src={branding.logo} alt="" width={32} height={32} /> : <Mark />}
        <span className="brand-name">{branding.productName}</span>
      </div>
      {children}
    </header>
  );
}
