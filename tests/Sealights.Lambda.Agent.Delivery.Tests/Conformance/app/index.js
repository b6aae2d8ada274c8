// A tiny app for slnodejs to instrument: calls at fixed seconds after start (those before
// APP_SECONDS), so each call's footprints can be told apart in a recording; then it ends by
// itself (empty event loop), as a real app would.
const calc = require('./calc');
function greet(name) { return 'hello ' + name; }
// APP_TIME_SCALE stretches the schedule (2: calls at 2, 30, 70, 110 s) for scenarios that need
// more time between calls than the agent's 10 s collection and send ticks.
const seconds = Number(process.env.APP_SECONDS || 30);
const scale = Number(process.env.APP_TIME_SCALE || 1);
const at = (t, f) => t * scale < seconds && setTimeout(() => console.log(`t=${t * scale} ${f()}`), t * scale * 1000);
at(1, () => `${greet('world')} ${calc.add(1, 2)}`);
at(15, () => calc.multiply(3, 4));
at(35, () => calc.divide(8, 2));
at(55, () => calc.subtract(9, 4));
setTimeout(() => console.log('exit'), seconds * 1000);
