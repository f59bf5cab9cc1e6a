// The worker's training runs, built in one place: from scratch, from a model file (`initial`), from
// the pretrained CNN (`startFrom`), or going on from a checkpoint (`resume`).
import { Training } from '../../whetstone.js';

/** A run of `request` on `data`, on `gpu` when it asks for the GPU; `pretrained()` fetches the
 * pretrained CNN's file. `run.taken` names the pretrained layers it took. */
export async function buildRun(request, data, gpu, pretrained) {
  const { spec, config, samples, heldOut, backend, startFrom, initial, resume } = request;
  if (backend === 'gpu' && (!gpu || gpu.lost)) throw new Error('WebGPU is not available; choose the CPU backend');
  const from = startFrom === 'pretrained' && !resume ? await pretrained() : null;
  const configJson = JSON.stringify(config);
  const onGpu = backend === 'gpu';
  let run;
  if (initial)
    run = onGpu
      ? Training.fromFileOnGpu(initial, configJson, data, samples, heldOut, gpu)
      : Training.fromFile(initial, configJson, data, samples, heldOut);
  else
    run = onGpu
      ? Training.onGpu(spec, configJson, data, samples, heldOut, gpu)
      : new Training(spec, configJson, data, samples, heldOut);
  try {
    run.taken = from ? Array.from(run.transferFrom(from)) : null;
    if (resume) run.resume(resume);
  } catch (err) {
    run.free();
    throw err;
  }
  return run;
}
