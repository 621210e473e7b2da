export default async function globalTeardown(): Promise<void> {
  await globalThis.__EMBEDDED_MONGO__?.stop();
  // Repeated after Jest's report, so the reason the database tests failed is also the last thing on screen.
  const advice = process.env.CRM_TEST_DATABASE_UNAVAILABLE;
  if (advice) process.stderr.write(`\n${advice}\n`);
}
