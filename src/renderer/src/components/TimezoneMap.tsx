import { memo, type MouseEvent } from 'react';
import type { TimeZone } from '../../../shared/system';
import { nearestZone, project } from '../timezone/zones';

interface Props {
  readonly zones: readonly TimeZone[];
  readonly selected: string;
  readonly onPick: (id: string) => void;
}

/**
 * A world map drawn from the zones themselves: one dot per zone at its latitude and longitude
 * (equirectangular), which sketches the continents without any map data. A pointer convenience
 * only: hidden from assistive technology and out of the tab order; the lists are the accessible way.
 */
export function TimezoneMap({ zones, selected, onPick }: Props) {
  const chosen = zones.find((z) => z.id === selected);
  const onClick = (event: MouseEvent<SVGSVGElement>) => {
    const svg = event.currentTarget;
    const matrix = svg.getScreenCTM();
    if (!matrix) return;
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
    const zone = nearestZone(zones, 90 - point.y, point.x - 180);
    if (zone) onPick(zone.id);
  };
  const mark = chosen ? project(chosen.latitude, chosen.longitude) : null;
  return (
    // Maps are not mirrored in right-to-left languages.
    <div className="tz-map" dir="ltr" aria-hidden="true">
      <svg viewBox="0 -4 360 172" preserveAspectRatio="xMidYMid meet" onClick={onClick} focusable="false" data-testid="timezone-map">
        <rect x="0" y="-4" width="360" height="172" className="tz-map-sea" />
        {[-60, -30, 0, 30, 60].map((lat) => (
          <line key={lat} x1="0" x2="360" y1={90 - lat} y2={90 - lat} className="tz-map-grid" />
        ))}
        <Dots zones={zones} />
        {mark && (
          <g className="tz-map-selected">
            <line x1={mark.x} x2={mark.x} y1="-4" y2="168" />
            <circle cx={mark.x} cy={mark.y} r="3.2" />
          </g>
        )}
      </svg>
    </div>
  );
}

// The dots only change with the list, not with each selection.
const Dots = memo(function Dots({ zones }: { zones: readonly TimeZone[] }) {
  return (
    <g className="tz-map-dots">
      {zones.map((z) => {
        const { x, y } = project(z.latitude, z.longitude);
        return <circle key={z.id} cx={x.toFixed(1)} cy={y.toFixed(1)} r="1.3" />;
      })}
    </g>
  );
});
