/*
 * The README's health example, type-checked by test/examples.spec.ts and run by test/nest/health.spec.ts.
 */
// #region health
import { Controller, Get, Module } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { RedlockHealthIndicator } from 'nestjs-redlock/terminus';

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly redlock: RedlockHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.redlock.isHealthy('redlock')]);
  }
}

@Module({
  imports: [TerminusModule], // and RedlockModule, here or global
  controllers: [HealthController],
  providers: [RedlockHealthIndicator],
})
export class HealthModule {}
// #endregion
