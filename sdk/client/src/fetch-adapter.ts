/**
 * openapi-fetch calls `fetch(request)` with a global `Request`. A fetch from another realm (npm undici)
 * cannot read that object ("Failed to parse URL from [object Request]"), so a custom fetch is called
 * with a URL and a plain init instead.
 */
export function adaptFetch(customFetch: typeof globalThis.fetch): (request: Request) => Promise<Response> {
  return async (request) => {
    const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
    const body = hasBody ? await request.text() : '';
    return customFetch(request.url, {
      method: request.method,
      headers: Object.fromEntries(request.headers.entries()),
      body: body === '' ? undefined : body,
      signal: request.signal,
    });
  };
}
