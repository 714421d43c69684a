// The saga benchmark is tracked in its own issue; until it lands this says so instead of printing invented figures.
console.log('pnpm bench: not yet — the saga-3 benchmark (burst, compensation, latency, start rate) is not implemented yet.');
