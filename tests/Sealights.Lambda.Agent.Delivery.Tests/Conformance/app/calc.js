// The instrumented app's methods: each scenario's schedule (index.js) calls them at known times.
function add(a, b) { return a + b; }
function multiply(a, b) { return a * b; }
function divide(a, b) { return a / b; }
function subtract(a, b) { return a - b; }
function neverCalled() { return 42; }
module.exports = { add, multiply, divide, subtract, neverCalled };
