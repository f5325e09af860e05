// Tests keep the logs quiet unless asked, and never send Apollo telemetry.
process.env.LOG_LEVEL ??= 'silent';
process.env.APOLLO_TELEMETRY_DISABLED = '1';
