import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerReturns } from './worker-returns.js';

describe('WorkerReturns', () => {
  it('expects back the workers whose last turnaround ends within the linger, not those rendering', () => {
    let now = 0;
    const returns = new WorkerReturns(() => now);
    // quick: 5 ms from task to next request; render: 60 s.
    returns.handed('quick');
    returns.handed('render');
    now = 5;
    returns.returned('quick');
    now = 60_000;
    returns.returned('render');
    assert.equal(returns.expected(25), 0, 'nobody is out with a task');

    returns.handed('quick');
    returns.handed('render');
    returns.handed('new'); // never seen coming back: not counted on
    assert.equal(returns.expected(25), 1, 'only the quick one is due within 25 ms');
    now += 40;
    assert.equal(returns.expected(25), 0, 'the quick one is overdue by more than the linger');
    returns.returned('quick');
    now += 59_950;
    assert.equal(returns.expected(25), 1, 'the render is due now');
  });

  it('forgets a worker that never came back', () => {
    let now = 0;
    const returns = new WorkerReturns(() => now);
    returns.handed('gone');
    now = 1;
    returns.returned('gone');
    returns.handed('gone');
    now = 700_000;
    assert.equal(returns.expected(1_000_000), 0);
    returns.returned('gone'); // no entry left: nothing to learn from
    returns.handed('gone');
    assert.equal(returns.expected(25), 0, 'its old turnaround was forgotten too');
  });
});
