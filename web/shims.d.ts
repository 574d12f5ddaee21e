/** plotly.js-dist ships no types; the page calls newPlot, react, purge and downloadImage. */
declare module 'plotly.js-dist' {
  const Plotly: {
    newPlot(el: HTMLElement, data: unknown[], layout?: unknown, config?: unknown): Promise<unknown>;
    react(el: HTMLElement, data: unknown[], layout?: unknown, config?: unknown): Promise<unknown>;
    purge(el: HTMLElement): void;
    downloadImage(el: HTMLElement, opts: { format: string; filename: string; scale?: number }): Promise<string>;
    toImage(
      el: HTMLElement,
      opts: { format: string; width?: number; height?: number; scale?: number },
    ): Promise<string>;
  };
  export default Plotly;
}
