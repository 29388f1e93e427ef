import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { RedlockModule } from 'nestjs-redlock';
import { RedlockHealthIndicator } from 'nestjs-redlock/terminus';
import { AppConfig } from './app-config.js';
import { HealthController } from './health/health.controller.js';
import { OrderStore } from './orders/order-store.js';
import { OrdersController } from './orders/orders.controller.js';
import { OrdersService } from './orders/orders.service.js';
import { ReportsController } from './reports/reports.controller.js';

@Module({ providers: [AppConfig], exports: [AppConfig] })
export class ConfigModule {}

@Module({
  imports: [
    ConfigModule,
    TerminusModule,
    // The nodes come from the environment, through the config provider.
    RedlockModule.forRootAsync({
      imports: [ConfigModule],
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        nodes: config.redisNodes,
        keyPrefix: 'sample:',
        defaultTtlMs: 5_000,
      }),
    }),
  ],
  controllers: [OrdersController, ReportsController, HealthController],
  providers: [OrderStore, OrdersService, RedlockHealthIndicator],
})
export class AppModule {}
