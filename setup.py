"""Packaging for the ament_python package multifloor_slam."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = 'multifloor_slam'

setup(
    name=PACKAGE,
    version='0.1.0',
    packages=find_packages(include=[PACKAGE, f'{PACKAGE}.*']),
    data_files=[
        ('share/ament_index/resource_index/packages', [f'resource/{PACKAGE}']),
        (f'share/{PACKAGE}', ['package.xml']),
        (f'share/{PACKAGE}/launch', glob('launch/*.launch.py')),
        (f'share/{PACKAGE}/config', glob('config/*.yaml') + glob('config/*.rviz')),
        (f'share/{PACKAGE}/models', glob('models/*.pt') + glob('models/*.yaml')),
    ],
    package_data={PACKAGE: ['py.typed']},
    install_requires=['setuptools'],
    zip_safe=True,
    maintainer='multifloor_slam maintainers',
    maintainer_email='maintainers@multifloor-slam.invalid',
    description='Multi-floor 2D mapping with barometric floor estimation and elevator detection.',
    license='AGPL-3.0-only',
    tests_require=['pytest'],
    entry_points={
        'console_scripts': [
            f'floor_estimator = {PACKAGE}.nodes.floor_estimator:main',
            f'elevator_detector = {PACKAGE}.nodes.elevator_detector:main',
            f'floor_map_manager = {PACKAGE}.nodes.floor_map_manager:main',
            f'floor_localizer = {PACKAGE}.nodes.floor_localizer:main',
            f'route_planner = {PACKAGE}.nodes.route_planner:main',
            f'multifloor-slam = {PACKAGE}.cli.main:main',
        ],
    },
)
