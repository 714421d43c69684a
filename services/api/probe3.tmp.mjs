const mb = (x) => (x / 1048576).toFixed(1);
const m0 = process.memoryUsage();
await import(process.argv[2]);
const m = process.memoryUsage();
console.log(process.argv[2].padEnd(40), 'rss +', mb(m.rss - m0.rss), 'heapTotal', mb(m.heapTotal), 'used', mb(m.heapUsed));
