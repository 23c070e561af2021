// The repository's Dockerfile as build stages, read with dockerfile-ast (the parser of the VS Code
// Docker extension), and the few questions the tests ask of it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Dockerfile, DockerfileParser, type Instruction } from 'dockerfile-ast';
import { REPOSITORY_ROOT } from '../../shared/env.ts';

export interface Stage {
  name?: string;
  image: string;
  instructions: Instruction[];
}

export const dockerfileText = () => readFileSync(join(REPOSITORY_ROOT, 'Dockerfile'), 'utf8');

export function stagesOf(file: Dockerfile = DockerfileParser.parse(dockerfileText())): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of file.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const from = file
        .getFROMs()
        .find((candidate) => candidate.getRange().start.line === instruction.getRange().start.line);
      stages.push({ name: from?.getBuildStage() ?? undefined, image: from?.getImage() ?? '', instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

export const keyword = (stage: Stage, name: string) =>
  stage.instructions.filter((entry) => entry.getKeyword() === name);
export const args = (instruction: Instruction) => instruction.getArguments().map((arg) => arg.getValue());
export const jsonArgs = (instruction: Instruction) => JSON.parse(instruction.getArgumentsContent() ?? '[]') as string[];
export const copyFrom = (instruction: Instruction) => /--from=(\S+)/.exec(instruction.getTextContent())?.[1];

/** The sources a stage copies from the build context (not from other stages). */
export function contextCopies(stage: Stage): string[] {
  return keyword(stage, 'COPY')
    .filter((instruction) => copyFrom(instruction) === undefined)
    .flatMap((instruction) => args(instruction).slice(0, -1));
}

/** The stage a `COPY --from=<name>` takes its files from. */
export const stageNamed = (stages: Stage[], name: string | undefined) => stages.find((stage) => stage.name === name);
