import type { FastifyInstance } from 'fastify';
import { resetMockState, type MockState } from './mock-state.js';

/** `GET /health`, `GET /__effects`, `GET /__requests`, `POST /__reset`. */
export function registerAdminRoutes(app: FastifyInstance, name: string, state: MockState): void {
  app.get('/health', async () => ({ status: 'ok', service: name }));
  app.get('/__effects', async () => ({ effects: state.effects }));
  app.get('/__requests', async () => ({ requests: state.requests }));
  app.post('/__reset', async (_request, reply) => {
    resetMockState(state);
    return reply.code(204).send();
  });
}
