import uPlot from 'uplot';

/** A plotted series: its label, values (one per time) and CSS colour variable. */
export interface ChartSeries {
  label: string;
  values: Array<number | null>;
  color: string;
}

/** The page's colours as computed (uPlot draws on a canvas, which cannot read CSS variables). */
function cssColor(element: Element, value: string): string {
  const name = /^var\((--[\w-]+)\)$/.exec(value)?.[1];
  return name ? getComputedStyle(element).getPropertyValue(name).trim() || '#888' : value;
}

/** uPlot options in the dashboard's look: its colours, grid and font, light or dark. */
export function chartOptions(element: HTMLElement, series: ChartSeries[], bars: boolean): uPlot.Options {
  const text = cssColor(element, 'var(--muted)');
  const grid = cssColor(element, 'var(--line)');
  const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  return {
    width: Math.max(200, element.clientWidth),
    height: 220,
    legend: { show: true, live: false },
    cursor: { drag: { x: false, y: false } },
    // Up to now, and at least the last 15 minutes: a young farm's few points do not fill the plot.
    scales: {
      x: {
        time: true,
        range: (_u, min, max) => {
          const now = Date.now() / 1000;
          return [Math.min(min ?? now, now - 15 * 60), Math.max(max ?? now, now)];
        },
      },
      y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.1))] },
    },
    axes: [axis, { ...axis, size: 40 }],
    series: [
      {},
      ...series.map((s) => {
        const color = cssColor(element, s.color);
        return {
          label: s.label,
          stroke: color,
          width: 2,
          fill: `${color}33`,
          ...(bars ? { paths: uPlot.paths.bars?.({ size: [0.7, 40] }), points: { show: false } } : {}),
        };
      }),
    ],
  };
}
