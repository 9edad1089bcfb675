import GridSyncCLI

await GridSyncCommand.runMain()
