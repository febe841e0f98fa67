/** The auth score and its three components over time, drawn with uPlot. */
import uPlot from 'uplot';
import { h } from '../dom.ts';
import { strings } from '../strings.ts';
import type { AuthScores } from '../types.ts';

const s = strings.detail;
const HEIGHT = 220;

export interface ScorePoint extends AuthScores {
  at: string;
}

const SERIES: { key: keyof AuthScores; label: string; stroke: string; width: number; dash?: number[] }[] = [
  { key: 'overall', label: strings.detail.score, stroke: '#1d4ed8', width: 2.5 },
  { key: 'identity', label: strings.detail.identity, stroke: '#7c3aed', width: 1.5, dash: [6, 3] },
  { key: 'presence', label: strings.detail.presence, stroke: '#0f766e', width: 1.5, dash: [2, 3] },
  { key: 'behavioral', label: strings.detail.behavioral, stroke: '#b45309', width: 1.5, dash: [8, 3, 2, 3] },
];

export class ScoreChart {
  readonly element: HTMLElement;
  private readonly plotBox: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly data: [number[], ...number[][]] = [[], [], [], [], []];
  private plot: uPlot | null = null;
  private readonly resize: ResizeObserver;
  /** The session's span (epoch s), so that the chart lines up with the recording timeline. */
  private span: [number, number] | null = null;

  constructor(points: ScorePoint[]) {
    this.plotBox = h('div', { class: 'chart-plot' });
    this.empty = h('p', { class: 'empty' }, s.chartEmpty);
    this.element = h('figure', { class: 'score-chart', testid: 'score-chart', role: 'group', 'aria-label': s.chartLabel }, this.plotBox, this.empty);
    for (const point of points) this.push(point);
    this.resize = new ResizeObserver(() => this.fit());
  }

  /** Draws the chart; call once the element is in the document (uPlot measures its container). */
  mount(): void {
    const width = Math.max(300, this.plotBox.clientWidth);
    this.plot = new uPlot(
      {
        width,
        height: HEIGHT,
        scales: {
          x: { time: true, range: (_u, min, max) => this.xRange(min, max) },
          y: { range: [0, 100] },
        },
        axes: [{}, { values: (_u, ticks) => ticks.map((tick) => String(tick)) }],
        series: [
          {},
          ...SERIES.map((series) => ({
            label: series.label,
            stroke: series.stroke,
            width: series.width,
            dash: series.dash,
            // Scores change in steps (a violation, a verification): draw them as steps, not slopes.
            paths: uPlot.paths.stepped!({ align: 1 }),
            points: { show: (u: uPlot) => u.data[0].length < 60, filter: (_u: uPlot, _seriesIdx: number, show: boolean) => (show ? this.realPointIndexes() : null) },
            value: (_u: uPlot, value: number | null) => (value === null ? strings.none : value.toFixed(1)),
          })),
        ],
        legend: { live: true },
        cursor: { drag: { x: false, y: false } },
      },
      this.plotData(),
      this.plotBox,
    );
    this.resize.observe(this.plotBox);
    this.updateEmpty();
  }

  /** Appends a point (from the live `score` event; `at` defaults to now). */
  add(scores: AuthScores, at = new Date().toISOString()): void {
    const last = this.data[0][this.data[0].length - 1];
    const time = Date.parse(at) / 1000;
    if (last !== undefined && time < last) return;
    this.push({ ...scores, at });
    this.plot?.setData(this.plotData());
    this.updateEmpty();
  }

  /** Sets the session's span: the x axis covers it and the last score extends to its end. */
  setSpan(startMs: number, endMs: number): void {
    this.span = [startMs / 1000, Math.max(startMs, endMs) / 1000];
    this.plot?.setData(this.plotData());
  }

  destroy(): void {
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }

  private push(point: ScorePoint): void {
    this.data[0].push(Date.parse(point.at) / 1000);
    SERIES.forEach((series, i) => this.data[i + 1]!.push(point[series.key]));
  }

  /** The points, plus the latest scores carried to the end of the span (the score holds until it changes). */
  private plotData(): uPlot.AlignedData {
    const times = this.data[0];
    const last = times[times.length - 1];
    if (!this.span || last === undefined || this.span[1] <= last) return this.data;
    return this.data.map((values, i) => [...values, i === 0 ? this.span![1] : values[values.length - 1]!]) as uPlot.AlignedData;
  }

  /** The data's extent widened to the session's span, and at least a minute (a lone point gets room). */
  private xRange(min: number | null, max: number | null): uPlot.Range.MinMax {
    let low = min ?? this.span?.[0] ?? Date.now() / 1000;
    let high = max ?? low;
    if (this.span) {
      low = Math.min(low, this.span[0]);
      high = Math.max(high, this.span[1]);
    }
    return [low, Math.max(high, low + 60)];
  }

  /** Dots only on recorded points, not on the carried-forward end. */
  private realPointIndexes(): number[] {
    return this.data[0].map((_, i) => i);
  }

  private fit(): void {
    const width = Math.max(300, this.plotBox.clientWidth);
    if (this.plot && Math.abs(this.plot.width - width) > 1) this.plot.setSize({ width, height: HEIGHT });
  }

  private updateEmpty(): void {
    const empty = this.data[0].length === 0;
    this.empty.hidden = !empty;
    // An empty chart is just axes: say so in words instead.
    this.plotBox.classList.toggle('chart-empty', empty);
  }
}
