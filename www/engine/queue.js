// Tasks that must not overlap run one after another: data and model changes, so that a choice made
// while an earlier one (or the first load) is still loading never mixes one data set with another's
// model. No DOM here.

/** A queue: `queue(task)` runs `task` after those before it and resolves as it does;
 * `busy(pending)` hears whether any task is left. */
export function taskQueue(busy) {
  let tail = Promise.resolve();
  let pending = 0;
  return (task) => {
    pending++;
    busy(true);
    const next = tail.then(task).finally(() => {
      if (--pending === 0) busy(false);
    });
    tail = next.catch(() => {});
    return next;
  };
}
