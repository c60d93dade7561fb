// The jobs the page watches: listed again after a reload, cancelled on request.
import type { Handlers } from '../../ipc/handle';
import { asContractJob, type ServiceContext } from './context';

export function jobHandlers({ jobs, stopJob }: ServiceContext): Pick<Handlers, 'jobs:list' | 'jobs:cancel'> {
  return {
    'jobs:list': () => jobs.list().map(asContractJob),
    'jobs:cancel': ({ id }) => {
      if (jobs.get(id).state === 'running') stopJob(id);
      return asContractJob(jobs.get(id));
    },
  };
}
